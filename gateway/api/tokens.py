"""Bearer-token authentication for the JSON API; each token has an owner the ledger records.

An API_TOKENS entry is either a whole bare token or `owner:token`. The colon cannot occur in hex,
base64 or base64url, so a generated token is never split: `yga0DznGt3K2onpiWefiAg==` is one bare
token, padding included. A bare token's owner is `token:` and the first 8 hex digits of its
sha256, so neither the ledger nor a log ever holds a usable token or a piece of one.

Refused at start-up, each with a one-line reason that never repeats the token: a token under
16 characters, a `=` anywhere but as trailing base64 padding (the old `owner=token` form: the
message says to write `owner:token`), white space or control characters, an empty or odd owner,
and one token listed twice.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any, TypeVar

from flask import current_app, g, jsonify, request

from gateway.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])

MIN_TOKEN_LENGTH = 16
OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
"""An owner is a name for people reading the ledger: letters, digits and . _ @ + -, at most 64."""
TOKEN_CHARS = re.compile(r"^[\x21-\x7e]+$")
"""Printable ASCII without spaces: what an Authorization header carries unchanged."""
PADDED_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]+={1,2}$")


@dataclass(frozen=True)
class ApiToken:
    """One API token and the owner the ledger names for it."""

    owner: str
    secret: bytes

    def __repr__(self) -> str:  # never the secret, not even in a traceback's locals
        return f"ApiToken(owner={self.owner!r})"


def bare_owner(token: str) -> str:
    """The owner recorded for a bare token: `token:` and 8 hex digits of its sha256."""
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:8]


def _check_token(token: str, where: str) -> None:
    if not TOKEN_CHARS.match(token):
        raise ConfigError(f"{where}: a token may hold only printable ASCII, without spaces")
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"{where}: token is {len(token)} characters; at least {MIN_TOKEN_LENGTH} are needed "
                          "(for example `openssl rand -hex 16`)")
    if "=" in token and not (PADDED_BASE64.match(token) and len(token) % 4 == 0):
        raise ConfigError(f"{where}: '=' may only be trailing base64 padding; "
                          "to name a token's owner write owner:token (owner=token is no longer read)")


def parse_entry(entry: str, position: int) -> ApiToken:
    """One API_TOKENS entry as an ApiToken, or ConfigError saying which entry and why."""
    where = f"API_TOKENS entry {position}"
    owner, colon, token = entry.strip().partition(":")
    if not colon:
        _check_token(owner, where)
        return ApiToken(bare_owner(owner), owner.encode())
    if not OWNER.match(owner):
        raise ConfigError(f"{where}: the owner before ':' must be 1 to 64 letters, digits or . _ @ + -")
    _check_token(token, where)
    return ApiToken(owner, token.encode())


@lru_cache(maxsize=8)
def parse_tokens(entries: tuple[str, ...]) -> tuple[ApiToken, ...]:
    """Every API_TOKENS entry parsed and checked (cached: the configured tuple rarely changes)."""
    tokens = tuple(parse_entry(entry, position) for position, entry in enumerate(entries, 1))
    seen: set[bytes] = set()
    for position, token in enumerate(tokens, 1):
        if token.secret in seen:
            raise ConfigError(f"API_TOKENS entry {position}: the same token is listed twice")
        seen.add(token.secret)
    return tokens


def check_config(entries: Iterable[str]) -> None:
    """Refuse a bad API_TOKENS at start-up (ConfigError with a one-line reason)."""
    parse_tokens(tuple(entries))


def _owner_of(presented: str) -> str | None:
    # Compare against every token so timing says nothing about which one was close.
    found = None
    candidate = presented.encode("utf-8", "surrogateescape")
    for token in parse_tokens(tuple(current_app.config["API_TOKENS"])):
        if hmac.compare_digest(candidate, token.secret) and found is None:
            found = token.owner
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
