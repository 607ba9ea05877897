"""What every JSON API route shares: the blueprint, its 400 handler, and argument parsing."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from gateway.addresses import parse_address, parse_phone
from gateway.current import rules
from gateway.errors import BadRequest, InvalidAddress
from storage import GLOBAL_SCOPE, consent
from storage.consent.intake import UNREACHABLE

bp = Blueprint("api", __name__, url_prefix="/api/v1")


RETRY_AFTER = 5
"""Seconds a caller waits before asking again while the database cannot be read."""


def _database_down(_error: Exception) -> Any:
    # Never "allowed" when the list cannot be read: the sender must wait, not text.
    response = jsonify(error="the suppression list cannot be read now; try again shortly")
    response.status_code, response.headers["Retry-After"] = 503, str(RETRY_AFTER)
    return response


for _down in UNREACHABLE:
    bp.register_error_handler(_down, _database_down)


def covered(scopes: set[str] | None, sender: str | None) -> bool:
    """Whether a spooled opt-out of `scopes` stops `sender` (any sender when none is named)."""
    if not scopes:
        return False
    return sender is None or sender in scopes or GLOBAL_SCOPE in scopes


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


def parse_brand(raw: str | None, sender: str | None) -> tuple[str, tuple[str, ...]] | None:
    """A brand argument (an id from keywords.yaml's brands:) and its senders; None when absent."""
    if raw is None or not raw.strip():
        return None
    if sender is not None:
        raise BadRequest("give sender or brand, not both")
    brand = rules().file.brands.brands.get(raw.strip())
    if brand is None:
        raise BadRequest(f"brand {raw.strip()[:64]!r}: not a brand of keywords.yaml")
    return brand.id, brand.senders


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
