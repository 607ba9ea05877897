"""The compliance staff's dashboard (/dashboard): why people leave, and the fuzzy matches to review.

May import gateway.current, keywords and storage; nothing imports it but create_app and the staff commands.
"""

from __future__ import annotations

from flask import Flask

from gateway.dashboard.auth import check_settings
from gateway.dashboard.views import bp


def init_app(app: Flask) -> None:
    """Register the dashboard, its session cookie and throttling settings."""
    check_settings(app.config)
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    public = app.config.get("PUBLIC_BASE_URL") or ""
    if public.startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    app.register_blueprint(bp)
