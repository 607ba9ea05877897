"""The auto-reply limits in force, from GATEWAY_REPLY_LIMIT, GATEWAY_REPLY_WINDOW and GATEWAY_REPEAT_REPLY_INTERVAL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import lru_cache
from typing import Any

from storage.limits import ReplyPolicy

DEFAULTS = ReplyPolicy()


def policy_from(config: Mapping[str, Any]) -> ReplyPolicy:
    """Replies per window (REPLY_LIMIT per REPLY_WINDOW seconds) and the repeat interval, in seconds; 0 is off."""
    return _policy(config.get("REPLY_LIMIT"), config.get("REPLY_WINDOW"), config.get("REPEAT_REPLY_INTERVAL"))


@lru_cache(maxsize=16)
def _policy(limit: Any, window: Any, repeat: Any) -> ReplyPolicy:
    # Built once per distinct setting: this runs for every inbound message.
    return ReplyPolicy(
        max_replies=int(DEFAULTS.max_replies if limit is None else limit),
        window=timedelta(seconds=float(DEFAULTS.window.total_seconds() if window is None else window)),
        repeat_interval=timedelta(
            seconds=float(DEFAULTS.repeat_interval.total_seconds() if repeat is None else repeat)
        ),
    )
