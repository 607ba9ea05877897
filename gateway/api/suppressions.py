"""May this sender text this number? The check senders call before every send, and the API's OpenAPI document."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import jsonify, request

from gateway.api.common import bp, parse_number, parse_sender, parse_topic, status_json
from gateway.api.tokens import require_token
from gateway.current import database
from storage import consent

OPENAPI = Path(__file__).with_name("openapi.yaml")


@bp.get("/suppressions/<path:number>")
@require_token
def check_suppression(number: str) -> Any:
    """Whether `sender` may text `number` about `topic`; without a sender or topic, any suppression counts."""
    e164 = parse_number(number)
    sender = parse_sender(request.args.get("sender"))
    topic = parse_topic(request.args.get("topic"))
    with database().read() as connection:
        status = consent.suppression_status(connection, e164, sender, topic)
    return jsonify(status_json(status))


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, read once."""
    document: dict[str, Any] = yaml.safe_load(OPENAPI.read_text())
    return document


@bp.get("/openapi.json")
def openapi() -> Any:
    """The API's OpenAPI 3.1 document (no token needed: it holds no data)."""
    return jsonify(openapi_document())

