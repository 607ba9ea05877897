"""May this sender text this number? The check senders call before every send, and the API's OpenAPI document."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import jsonify, request

from gateway.api.common import bp, covered, parse_number, parse_sender, parse_topic, status_json
from gateway.api.tokens import require_token
from gateway.current import database, spool
from storage import consent
from storage.consent.intake import UNREACHABLE

OPENAPI = Path(__file__).with_name("openapi.yaml")


@bp.get("/suppressions/<path:number>")
@require_token
def check_suppression(number: str) -> Any:
    """Whether `sender` may text `number` about `topic`; without a sender or topic, any suppression counts."""
    e164 = parse_number(number)
    sender = parse_sender(request.args.get("sender"))
    topic = parse_topic(request.args.get("topic"))
    local = spool()
    pending = local is not None and local.spool.has_pending()
    # Fail closed: an opt-out waiting in this machine's spool was confirmed to the person already.
    held = local.opted_out([e164]).get(e164) if local is not None and pending else None
    spooled = covered(held, sender)
    try:
        with database().read() as connection:
            answer = status_json(consent.suppression_status(connection, e164, sender, topic))
    except UNREACHABLE:
        if not spooled:
            raise
        answer = {"number": e164, "sender": sender, "topic": topic, "suppressed": True, "since": None,
                  "reason": "keyword", "suppressions": []}
    answer["spool_pending"] = pending
    if spooled:
        answer["suppressed"], answer["spooled_opt_out"] = True, True
    return jsonify(answer)


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, read once."""
    document: dict[str, Any] = yaml.safe_load(OPENAPI.read_text())
    return document


@bp.get("/openapi.json")
def openapi() -> Any:
    """The API's OpenAPI 3.1 document (no token needed: it holds no data)."""
    return jsonify(openapi_document())

