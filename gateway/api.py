"""The JSON API senders call before sending: may this sender text this number?

Routes of the compliance operations (scrub, imports, export, history, erasure) live in
gateway/api_ops.py on the same blueprint; the OpenAPI document describing all of them is
gateway/openapi.yaml, served at /api/v1/openapi.json.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, current_app, jsonify, request

from gateway.addresses import parse_address, parse_phone
from gateway.auth import require_token
from gateway.errors import BadRequest, InvalidAddress
from gateway.state import database
from storage import consent

bp = Blueprint("api", __name__, url_prefix="/api/v1")
OPENAPI = Path(__file__).with_name("openapi.yaml")


@bp.errorhandler(BadRequest)
def _bad_request(error: BadRequest) -> Any:
    return jsonify(error=str(error)), 400


def parse_number(raw: str) -> str:
    """A number argument in E.164, or BadRequest with the reason."""
    try:
        return parse_phone(raw, current_app.config["DEFAULT_REGION"])
    except InvalidAddress as error:
        raise BadRequest(f"number {raw!r}: {error}") from None


def json_text(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    """A text field of a JSON object: None when absent or null, BadRequest for another type or for non-text."""
    # Never str() a value: ["+1..."] or 14155550100 would become a number nobody sent.
    raw = body.get(name)
    if raw is None:
        if required:
            raise BadRequest(f"{name}: required, a string")
        return None
    if not isinstance(raw, str):
        raise BadRequest(f"{name}: expected a string, not {type(raw).__name__}")
    unicode_text(name, raw)
    return raw


def unicode_text(name: str, raw: str) -> str:
    """`raw` when it is Unicode text; JSON can escape a lone surrogate (\\ud800), which no encoder takes."""
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{name}: not Unicode text (a lone surrogate)") from None
    return raw


def parse_sender(raw: str | None) -> str | None:
    """A sender argument (number, short code, sender id or MG... service), None when absent."""
    if raw is None or not raw.strip():
        return None
    try:
        return parse_address(raw, current_app.config["DEFAULT_REGION"]).value
    except InvalidAddress as error:
        raise BadRequest(f"sender {raw!r}: {error}") from None


def parse_topic(raw: object) -> str | None:
    """A topic argument: at most 64 printable characters, None when absent."""
    # Topics are stored in 64 characters; control characters (NUL above all) cannot be one.
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > 64 or not raw.isprintable():
        raise BadRequest("topic: at most 64 printable characters")
    return raw


def status_json(status: consent.SuppressionStatus) -> dict[str, Any]:
    """A suppression status as the API answers it."""
    first = status.entries[0] if status.entries else None
    return {
        "number": status.number,
        "sender": status.sender,
        "topic": status.topic,
        "suppressed": status.suppressed,
        "since": first.since.isoformat() if first else None,
        "reason": first.source if first else None,
        "suppressions": [
            {
                "scope": entry.scope,
                "topic": entry.topic,
                "since": entry.since.isoformat(),
                "until": entry.until.isoformat() if entry.until else None,
                "source": entry.source,
                "rule": entry.rule,
            }
            for entry in status.entries
        ],
    }


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


from gateway import api_ops as api_ops  # noqa: E402  (its routes join this blueprint)
