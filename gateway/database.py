"""The app's database engine settings: notice a dead or hung database fast, and log no SQL parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DB_LOCK_TIMEOUT = 5.0
"""Seconds a request waits for a database lock before its message goes to the spool."""
WEBHOOK_DEADLINE = 8.0
"""Seconds a webhook request may spend on the database in all (queueing, connecting, statements)."""
PROVIDER_TIMEOUT = 15.0
"""Twilio stops waiting for a webhook answer after 15 seconds (and retries or gives up)."""


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """Engine settings for the spool's sake: notice a dead or hung database fast, and log no SQL parameters."""
    options: dict[str, Any] = {"hide_parameters": True}
    # A lock held longer than GATEWAY_DB_LOCK_TIMEOUT seconds (a million-row import holds the ledger
    # for half a minute) fails the wait instead of outliving the provider's timeout: spooled too.
    options["lock_timeout"] = float(config.get("DB_LOCK_TIMEOUT", DB_LOCK_TIMEOUT))
    # GATEWAY_WEBHOOK_DEADLINE bounds everything a request does on the database, however many
    # batches queue behind a stuck one (storage/deadline.py): then the message is spooled.
    options["deadline"] = float(config.get("WEBHOOK_DEADLINE", WEBHOOK_DEADLINE))
    if not 0 < options["deadline"] < PROVIDER_TIMEOUT - 1:
        raise ValueError(f"GATEWAY_WEBHOOK_DEADLINE must be between 0 and {PROVIDER_TIMEOUT - 1:g} seconds"
                         f" (the provider waits {PROVIDER_TIMEOUT:g}), not {options['deadline']:g}")
    # No request waits longer for a pooled connection than its deadline allows.
    options["pool_timeout"] = options["deadline"]
    if str(config["DATABASE_URL"]).startswith("postgresql"):
        options["connect_args"] = _client_timeouts(config, options["deadline"])
    return options


def _client_timeouts(config: Mapping[str, Any], deadline: float) -> dict[str, Any]:
    """libpq's own bounds, so a silent server or a lost network cannot hold a connection for long.

    A database that does not answer must hand the message to the spool well within the provider's
    timeout (GATEWAY_DB_CONNECT_TIMEOUT seconds, less if the request's deadline leaves less).
    Keepalives find a dead peer of an idle pooled connection in some 10 seconds, and
    tcp_user_timeout drops one whose sent data stay unacknowledged past the deadline. A frozen
    server whose kernel still acknowledges is for the deadline's watchdog (storage/deadline.py).
    """
    return {
        "connect_timeout": int(config.get("DB_CONNECT_TIMEOUT", 3)),
        "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
        "tcp_user_timeout": int(deadline * 1000),
    }
