"""Bearer-token authentication for the JSON API."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, jsonify, request

F = TypeVar("F", bound=Callable[..., Any])


def _token_valid(presented: str) -> bool:
    # Compare against every token so timing says nothing about which one was close.
    matches = [hmac.compare_digest(presented.encode(), token.encode()) for token in current_app.config["API_TOKENS"]]
    return any(matches)


def require_token(view: F) -> F:
    """401 unless the request carries `Authorization: Bearer <one of API_TOKENS>`."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return _unauthorized("missing bearer token")
        if not _token_valid(presented.strip()):
            return _unauthorized("invalid bearer token")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _unauthorized(reason: str) -> Any:
    response = jsonify(error=reason)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
