"""The JSON API senders call before sending: may this sender text this number?"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from gateway.addresses import parse_address, parse_phone
from gateway.auth import require_token
from gateway.errors import BadRequest, InvalidAddress
from gateway.state import database
from storage import consent

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(BadRequest)
def _bad_request(error: BadRequest) -> Any:
    return jsonify(error=str(error)), 400


def _number(raw: str) -> str:
    try:
        return parse_phone(raw, current_app.config["DEFAULT_REGION"])
    except InvalidAddress as error:
        raise BadRequest(f"number {raw!r}: {error}") from None


def _sender(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    try:
        return parse_address(raw, current_app.config["DEFAULT_REGION"]).value
    except InvalidAddress as error:
        raise BadRequest(f"sender {raw!r}: {error}") from None


def _topic(raw: str | None) -> str | None:
    # Topics are stored in 64 characters; control characters (NUL above all) cannot be one.
    if not raw:
        return None
    if len(raw) > 64 or not raw.isprintable():
        raise BadRequest("topic: at most 64 printable characters")
    return raw


@bp.get("/suppressions/<path:number>")
@require_token
def check_suppression(number: str) -> Any:
    """Whether `sender` may text `number` about `topic`; without a sender or topic, any suppression counts."""
    e164 = _number(number)
    sender = _sender(request.args.get("sender"))
    topic = _topic(request.args.get("topic"))
    with database().begin() as session:
        status = consent.suppression_status(session, e164, sender, topic)
    first = status.entries[0] if status.entries else None
    return jsonify(
        number=status.number,
        sender=status.sender,
        topic=status.topic,
        suppressed=status.suppressed,
        since=first.since.isoformat() if first else None,
        reason=first.source if first else None,
        suppressions=[
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
    )
