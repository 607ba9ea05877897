"""The auto-reply limits in force, from GATEWAY_REPLY_LIMIT, GATEWAY_REPLY_WINDOW and GATEWAY_REPEAT_REPLY_INTERVAL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import current_app

from storage.limits import ReplyPolicy

DEFAULTS = ReplyPolicy()


def policy_from(config: Mapping[str, Any]) -> ReplyPolicy:
    """Replies per window (REPLY_LIMIT per REPLY_WINDOW seconds) and the repeat interval, in seconds; 0 is off."""
    return ReplyPolicy(
        max_replies=int(config.get("REPLY_LIMIT", DEFAULTS.max_replies)),
        window=timedelta(seconds=float(config.get("REPLY_WINDOW", DEFAULTS.window.total_seconds()))),
        repeat_interval=timedelta(
            seconds=float(config.get("REPEAT_REPLY_INTERVAL", DEFAULTS.repeat_interval.total_seconds()))
        ),
    )


def policy() -> ReplyPolicy:
    """The limits of the current app (read per request, so a test or an operator's change applies at once)."""
    return policy_from(current_app.config)
