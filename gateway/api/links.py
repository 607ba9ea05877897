"""Unsubscribe links: mint short tokens bound to (number, sender, topic), check, resolve and revoke them.

A token is 12 base64url characters, 9 bytes:  day (2) | nonce (3) | mac (4)

    day    the last day the link works, in days since 2020-01-01 (UTC)
    nonce  random, so two links of one number differ
    mac    HMAC-SHA256(SECRET_KEY, "unsub-v1" | day | nonce | number | sender | topic), first 4 bytes

Why this shape (the trade-off):
- 12 characters keep the appended text short (see `measure_append`); they cannot also carry a
  phone number and a sender, so minting stores one row keyed by the token (`unsubscribe_links`).
- Verifiable without a database: whoever knows the number, sender and topic (a sender's system
  does) checks a token with `verify_token`, no query. The page knows only the token: it rejects a
  malformed or expired token before any query, loads the row, then re-checks the MAC against the
  row's number, sender and topic, so a row edited to point elsewhere, or a token minted for
  another number with the same day and nonce, is refused.
- Unguessable: a guess must hit a stored token, 24 random + 32 MAC bits; with N live links per
  expiry day that is N / 2^56 per try. Only a link's own number can be unsubscribed through it,
  and re-subscribing through a link works only shortly after a change made through that link.
- Revocable: `revoked_at` on the row (one link, or every link of a number). The stateless check
  cannot see revocation; the page always loads the row, so a revoked link does nothing there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.api.common import parse_number, parse_sender, unicode_text
from gateway.api.tokens import require_token
from gateway.config import public_base_url
from gateway.errors import BadRequest
from gateway.current import database
from keywords.sms import Encoding, measure
from storage import consent
from storage import links as link_store
from storage.links import UnsubscribeLink
from storage.models import ALL_TOPICS
from storage.types import utcnow

TOKEN_LENGTH = 12
EPOCH = date(2020, 1, 1)
_MAC_CONTEXT = b"unsub-v1"
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

LINK_DEFAULTS: dict[str, Any] = {
    # Days a minted link keeps working; a re-mint returns the same link while half of that is left.
    "LINK_TTL_DAYS": 365,
    # After a choice made through a link, re-subscribing through the same link works this long.
    "RESUBSCRIBE_GRACE_MINUTES": 24 * 60,
    # Topics a sender's messages come in, per sender scope ("default" for the rest).
    "TOPICS": {"default": ["offers", "news", "events"]},
    # The word before the link, per language, in the text a sender appends.
    "LINK_LABELS": {"en": "Unsubscribe", "es": "Baja", "ru": "Отписаться"},
}


class TokenError(Exception):
    """A token that does nothing: `kind` is malformed, expired, unknown or revoked."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class MintedLink:
    """A link ready to append to an outgoing text, with what it costs in characters and segments."""

    token: str
    url: str
    text: str
    expires_on: date
    reused: bool

    @property
    def appended(self) -> str:
        """What a sender adds to the end of a message: a line break and the text."""
        return "\n" + self.text


def _day(on: date) -> int:
    return (on - EPOCH).days


def _mac(secret: str, day: int, nonce: bytes, number: str, sender: str, topic: str) -> bytes:
    message = b"\x00".join(
        [_MAC_CONTEXT, day.to_bytes(2, "big") + nonce, number.encode(), sender.encode(), topic.encode()]
    )
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()[:4]


def make_token(secret: str, number: str, sender: str, topic: str, expires_on: date, nonce: bytes | None = None) -> str:
    """A 12-character token for (number, sender, topic) that works until `expires_on`."""
    day = _day(expires_on)
    if not 0 <= day < 1 << 16:
        raise ValueError("expiry day out of range")
    nonce = nonce if nonce is not None else secrets.token_bytes(3)
    raw = day.to_bytes(2, "big") + nonce + _mac(secret, day, nonce, number, sender, topic)
    return base64.urlsafe_b64encode(raw).decode()


def parse_token(token: str, today: date) -> tuple[int, bytes, bytes]:
    """Split a token into (day, nonce, mac); TokenError('malformed' or 'expired') without any query."""
    if len(token) != TOKEN_LENGTH or not set(token) <= _ALPHABET:
        raise TokenError("malformed")
    try:
        raw = base64.urlsafe_b64decode(token)
    except (binascii.Error, ValueError):
        raise TokenError("malformed") from None
    day = int.from_bytes(raw[:2], "big")
    if day < _day(today):
        raise TokenError("expired")
    return day, raw[2:5], raw[5:]


def verify_token(secret: str, token: str, number: str, sender: str, topic: str, today: date | None = None) -> bool:
    """Whether `token` is a live link for exactly this (number, sender, topic); no database needed."""
    try:
        day, nonce, mac = parse_token(token, today or utcnow().date())
    except TokenError:
        return False
    return hmac.compare_digest(mac, _mac(secret, day, nonce, number, sender, topic))


def resolve(session: Session, secret: str, token: str, today: date | None = None) -> UnsubscribeLink:
    """The stored link a page token names, after the format, expiry, MAC and revocation checks."""
    day, nonce, mac = parse_token(token, today or utcnow().date())
    link = link_store.get_link(session, token)
    if link is None:
        raise TokenError("unknown")
    if not hmac.compare_digest(mac, _mac(secret, day, nonce, link.number, link.sender_scope, link.topic)):
        raise TokenError("unknown")
    if link.revoked_at is not None:
        raise TokenError("revoked")
    return link


def mint(
    session: Session,
    secret: str,
    base_url: str,
    number: str,
    sender: str,
    topic: str = ALL_TOPICS,
    language: str | None = None,
    ttl_days: int = LINK_DEFAULTS["LINK_TTL_DAYS"],
    label: str = "Unsubscribe",
    today: date | None = None,
) -> MintedLink:
    """Mint (or reuse) the link for (number, sender, topic); the row is stored in `session`."""
    today = today or utcnow().date()
    link = link_store.reusable_link(session, number, sender, topic, today + timedelta(days=ttl_days // 2))
    reused = link is not None
    if link is None:
        expires_on = today + timedelta(days=ttl_days)
        for _ in range(5):
            token = make_token(secret, number, sender, topic, expires_on)
            try:
                with session.begin_nested():
                    link = link_store.add_link(
                        session,
                        UnsubscribeLink(
                            token=token, number=number, sender_scope=sender, topic=topic,
                            language=language, expires_on=expires_on,
                        ),
                    )
                break
            except IntegrityError:  # the same 12 characters twice: 2^-56 odds, but never a crash
                continue
        if link is None:
            raise RuntimeError("could not mint a unique link token")
    url = base_url.rstrip("/") + "/u/" + link.token
    return MintedLink(link.token, url, f"{label}: {url}", link.expires_on, reused)


def measure_append(message: str, appended: str) -> dict[str, Any]:
    """Characters and SMS segments the appended text costs, alone and added to `message`."""

    def figures(encoding: Encoding) -> dict[str, Any]:
        return {"chars": encoding.chars, "encoding": encoding.encoding, "segments": encoding.segments}

    before, after = measure(message), measure(message + appended)
    return {
        "appended": figures(measure(appended)),
        "message": figures(before) if message else None,
        "with_link": figures(after) if message else None,
        "extra_segments": after.segments - before.segments if message else None,
    }


def topics_for(sender: str) -> list[str]:
    """The topics a sender's messages come in (GATEWAY_TOPICS, per sender scope or "default")."""
    topics = current_app.config["TOPICS"]
    return list(topics.get(sender) or topics.get("default") or [])


def secret_key() -> str:
    """SECRET_KEY, or a 503 for a gateway started without one (links cannot be signed)."""
    secret = current_app.config.get("SECRET_KEY")
    if not secret:
        raise NoSecret()
    return str(secret)


class NoSecret(Exception):
    """The gateway has no SECRET_KEY, so it can neither mint nor check links."""


bp = Blueprint("links", __name__, url_prefix="/api/v1")


@bp.errorhandler(BadRequest)
def _bad_request(error: BadRequest) -> Any:
    return jsonify(error=str(error)), 400


@bp.errorhandler(NoSecret)
def _no_secret(_error: NoSecret) -> Any:
    return jsonify(error="SECRET_KEY is not configured: links cannot be signed"), 503


def _field(data: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadRequest(f"{name!r} is required")
        return None
    if not isinstance(value, str) or len(value) > 1600:
        raise BadRequest(f"{name!r} must be a string of at most 1600 characters")
    unicode_text(name, value)
    return value.strip() if name != "message" else value


def _subject(number_raw: str, sender_raw: str) -> tuple[str, str]:
    sender = parse_sender(sender_raw)
    if sender is None:
        raise BadRequest("'sender' is required")
    return parse_number(number_raw), sender


@bp.post("/links")
@require_token
def mint_link() -> Any:
    """Mint the unsubscribe link for (number, sender, topic) and say what appending it costs."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("expected a JSON object with number, sender and optionally topic, language, message")
    number, sender = _subject(_field(data, "number") or "", _field(data, "sender") or "")
    topic = _field(data, "topic", required=False) or ALL_TOPICS
    if topic != ALL_TOPICS and topic not in topics_for(sender):
        raise BadRequest(f"unknown topic {topic!r} for this sender; known: {', '.join(topics_for(sender)) or 'none'}")
    labels = current_app.config["LINK_LABELS"]
    language = _field(data, "language", required=False)
    if language is not None and language not in labels:
        raise BadRequest(f"unknown language {language!r}; known: {', '.join(sorted(labels))}")
    # Never the caller's Host header unless the settings say it may decide (config.host_may_decide).
    base = public_base_url(current_app.config, request.host_url)
    if base is None:
        return jsonify(error="PUBLIC_BASE_URL is not configured: a link cannot be minted"), 503
    with database().begin() as session:
        minted = mint(
            session, secret_key(), base, number, sender, topic, language,
            ttl_days=int(current_app.config["LINK_TTL_DAYS"]), label=labels[language or "en"],
        )
    cost = measure_append(_field(data, "message", required=False) or "", minted.appended)
    return jsonify(
        number=number, sender=sender, topic=topic, token=minted.token, url=minted.url, text=minted.text,
        append=minted.appended, expires_on=minted.expires_on.isoformat(), reused=minted.reused, **cost,
    ), 200 if minted.reused else 201


@bp.delete("/links/<path:number>")
@require_token
def revoke_links(number: str) -> Any:
    """Revoke every live unsubscribe link of a number (for example when the number changes hands)."""
    e164 = parse_number(number)
    with database().begin() as session:
        count = link_store.revoke_links(session, e164)
    return jsonify(number=e164, revoked=count)


@bp.get("/preferences/<path:number>")
@require_token
def preferences(number: str) -> Any:
    """What a number chose on link pages for a sender: topics stopped, pause, and message frequency."""
    sender_raw = request.args.get("sender")
    if not sender_raw:
        raise BadRequest("'sender' is required")
    e164, sender = _subject(number, sender_raw)
    with database().begin() as session:
        status = consent.suppression_status(session, e164, sender)
        frequency = link_store.current_frequency(session, e164, sender)
    whole = [e for e in status.entries if e.topic == ALL_TOPICS]
    pauses = [e.until for e in whole if e.until is not None]
    return jsonify(
        number=e164,
        sender=sender,
        suppressed=any(e.until is None for e in whole),
        paused_until=max(pauses).isoformat() if pauses else None,
        topics_stopped=sorted({e.topic for e in status.entries if e.topic != ALL_TOPICS}),
        frequency=frequency or "normal",
    )


def init_app(app: Flask) -> None:
    """Link settings' defaults and the link API."""
    for key, value in LINK_DEFAULTS.items():
        app.config.setdefault(key, value)
    topics = app.config["TOPICS"]
    if not isinstance(topics, dict) or not all(
        isinstance(names, list) and all(isinstance(name, str) and 0 < len(name) <= 64 for name in names)
        for names in topics.values()
    ):
        raise ValueError('GATEWAY_TOPICS must be JSON like {"default": ["offers", "news"], "+18005550199": ["offers"]}')
    labels = app.config["LINK_LABELS"]
    if not isinstance(labels, dict) or "en" not in labels:
        raise ValueError('GATEWAY_LINK_LABELS must be JSON like {"en": "Unsubscribe", "es": "Baja"} (with "en")')
    app.register_blueprint(bp)
