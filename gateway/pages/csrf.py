"""CSRF tokens for HTML forms: a signed, timed value bound to what the form acts on."""

from __future__ import annotations

import hmac

from itsdangerous import BadSignature, URLSafeTimedSerializer

FIELD = "csrf"
MAX_AGE_SECONDS = 12 * 60 * 60
"""A page left open half a day still works; older forms must be reloaded."""


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"csrf:{purpose}")


def issue(secret: str, purpose: str, subject: str) -> str:
    """A form token for `subject` (a link token, a staff session id) and one purpose."""
    return _serializer(secret, purpose).dumps(subject)


def valid(secret: str, purpose: str, subject: str, presented: str | None, max_age: int = MAX_AGE_SECONDS) -> bool:
    """Whether `presented` was issued by us, for this purpose and subject, within `max_age` seconds."""
    if not presented or len(presented) > 512:
        return False
    try:
        value = _serializer(secret, purpose).loads(presented, max_age=max_age)
    except BadSignature:
        return False
    return isinstance(value, str) and hmac.compare_digest(value.encode(), subject.encode())
