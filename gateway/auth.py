"""Bearer-token authentication for the JSON API; each token has an owner the ledger records.

API_TOKENS entries are `owner=token` or a bare `token`; a bare token's owner is `token:` and the
first 8 hex digits of its sha256, so the ledger never holds a usable token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, jsonify, request

F = TypeVar("F", bound=Callable[..., Any])


def token_owners(entries: Iterable[str]) -> list[tuple[str, str]]:
    """(owner, token) for each API_TOKENS entry."""
    pairs = []
    for entry in entries:
        owner, sep, token = entry.partition("=")
        if not sep or not owner.strip() or not token.strip():
            # A bare token (base64 tokens may end in '='): named after its digest.
            token = entry.strip()
            owner = "token:" + hashlib.sha256(token.encode()).hexdigest()[:8]
        pairs.append((owner.strip(), token.strip()))
    return pairs


def _owner_of(presented: str) -> str | None:
    # Compare against every token so timing says nothing about which one was close.
    found = None
    for owner, token in token_owners(current_app.config["API_TOKENS"]):
        if hmac.compare_digest(presented.encode(), token.encode()) and found is None:
            found = owner
    return found


def current_owner() -> str:
    """The owner of the token this request was authenticated with."""
    owner: str = g.api_owner
    return owner


def require_token(view: F) -> F:
    """401 unless the request carries `Authorization: Bearer <one of API_TOKENS>`."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return _unauthorized("missing bearer token")
        owner = _owner_of(presented.strip())
        if owner is None:
            return _unauthorized("invalid bearer token")
        g.api_owner = owner
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _unauthorized(reason: str) -> Any:
    response = jsonify(error=reason)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
