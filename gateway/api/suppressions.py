"""May this sender text this number? The check senders call before every send, and the API's OpenAPI document."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import jsonify, request

from gateway.api.common import bp, covered, parse_brand, parse_number, parse_sender, parse_topic, status_json
from gateway.api.tokens import require_token
from gateway.current import database, spool
from storage import consent
from storage.consent.intake import UNREACHABLE

OPENAPI = Path(__file__).with_name("openapi.yaml")


@bp.get("/suppressions/<path:number>")
@require_token
def check_suppression(number: str) -> Any:
    """Whether `sender` (or any sender of `brand`) may text `number` about `topic`; with neither, any suppression counts."""
    e164 = parse_number(number)
    sender = parse_sender(request.args.get("sender"))
    brand = parse_brand(request.args.get("brand"), sender)
    topic = parse_topic(request.args.get("topic"))
    local = spool()
    pending = local is not None and local.spool.has_pending()
    # Fail closed: an opt-out waiting in this machine's spool was confirmed to the person already.
    held = local.opted_out([e164]).get(e164) if local is not None and pending else None
    senders: tuple[str | None, ...] = brand[1] if brand else (sender,)
    spooled = {s: covered(held, s) for s in senders}
    try:
        with database().read() as connection:
            statuses = [status_json(consent.suppression_status(connection, e164, s, topic)) for s in senders]
    except UNREACHABLE:
        if not any(spooled.values()):
            raise
        statuses = [{"number": e164, "sender": s, "topic": topic, "suppressed": spooled[s], "since": None,
                     "reason": "keyword" if spooled[s] else None, "suppressions": []} for s in senders]
    for status in statuses:
        status["suppressed"] = status["suppressed"] or spooled[status["sender"]]
    # A brand is suppressed where any of its senders is: the sender that texts next may be that one.
    answer = next((status for status in statuses if status["suppressed"]), statuses[0])
    if brand:
        answer = {**answer, "sender": None, "brand": brand[0], "senders": {s["sender"]: s["suppressed"] for s in statuses}}
    answer["spool_pending"] = pending
    if any(spooled.values()):
        answer["spooled_opt_out"] = True
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

