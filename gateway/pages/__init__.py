"""The recipient's unsubscribe page behind every minted link (/u/<token>).

May import gateway.api.links (tokens), gateway.current and storage; nothing imports the pages but create_app.
"""

from __future__ import annotations

from flask import Flask

from gateway.pages.views import bp


def init_app(app: Flask) -> None:
    """Register the link page."""
    app.register_blueprint(bp)
