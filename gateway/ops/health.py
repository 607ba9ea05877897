"""Probes for operators: /healthz (the process answers) and /readyz (database and keyword file)."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Blueprint, Flask, Response, jsonify

from gateway.inbound.general import DATABASE_DOWN
from gateway.current import database, rules_holder
from storage import deadline
from storage.readiness import ping

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

READY_DEADLINE = 2.0
"""Seconds /readyz gives the database: a hung one is reported, and frees the thread, instead of holding it."""


@bp.get("/healthz")
def healthz() -> Any:
    """200 while the process can answer: for a load balancer's routing check.

    It never touches the database, so it answers while the database hangs (webhook requests are
    bounded by GATEWAY_WEBHOOK_DEADLINE and /readyz by READY_DEADLINE, so no thread stays blocked).
    """
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Any:
    """200 when the database answers and the keyword file on disk is the one in force; else 503 and why."""
    checks: dict[str, str] = {}
    try:
        with deadline.within(READY_DEADLINE), database().begin() as session:
            ping(session)
        checks["database"] = "ok"
    except DATABASE_DOWN as error:
        checks["database"] = f"unavailable: {type(error).__name__}"
    holder = rules_holder()
    current = holder.current
    checks["keywords"] = f"refused edit, serving {current.version}: {holder.last_error}" if holder.last_error else "ok"
    ready = all(value == "ok" for value in checks.values())
    response = jsonify(status="ready" if ready else "not ready", checks=checks)
    response.status_code = 200 if ready else 503
    return response


def _unavailable(error: Exception) -> Response:
    # The spool covers the webhook; anything else that needs the database says so and is retried.
    log.warning("database unavailable: %s", type(error).__name__)
    return Response("503 Service Unavailable: storage is unreachable, retry later\n", 503,
                    mimetype="text/plain", headers={"Retry-After": "5"})


def init_app(app: Flask) -> None:
    """Serve the probes and answer 503 (not 500) when the database cannot be reached."""
    app.register_blueprint(bp)
    for error in (*DATABASE_DOWN, sqlite3.Error):
        # sqlite3.Error: the spool itself could not be written (disk full): the provider must retry.
        app.register_error_handler(error, _unavailable)
