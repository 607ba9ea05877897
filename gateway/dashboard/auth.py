"""Staff sign-in for the dashboard: a staff token (STAFF_TOKENS or a staff account) exchanged for a session.

The session lives on the server (storage/staff_sessions.py): the signed cookie holds a random
session id and the CSRF form id, never the token or its hash; logout deletes the session, and
every request checks it is still open and its token still valid. Failed sign-ins are counted in
the database per client address (a keyed hash of request.remote_addr, which ProxyFix sets from
trusted proxies) and overall; past either limit the form answers 429 with Retry-After until the
window has room again. Login takes only a token, so there is no account to lock instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, redirect, request, session, url_for
from sqlalchemy.orm import Session

from gateway.errors import ConfigError
from gateway.pages import csrf
from gateway.current import database
from storage import staff, staff_sessions

F = TypeVar("F", bound=Callable[..., Any])
SETTINGS = {
    "DASHBOARD_SESSION_HOURS": 12,
    "DASHBOARD_LOGIN_FAILURES_PER_ADDRESS": 10,
    "DASHBOARD_LOGIN_FAILURES_GLOBAL": 100,
    "DASHBOARD_LOGIN_WINDOW_SECONDS": 900,
}
"""Session lifetime and sign-in throttling (GATEWAY_<NAME> in the environment): whole numbers, at least 1."""


def token_hash(token: str) -> str:
    """What a staff account keeps of its token (tokens are random, so a plain SHA-256 is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def actor_for_hash(key: str) -> str | None:
    """Who holds the token with this hash now: a STAFF_TOKENS entry or an enabled staff account; else None."""
    # Compare with every configured token, so timing does not tell which one was close.
    matches = [hmac.compare_digest(key, token_hash(known)) for known in current_app.config["STAFF_TOKENS"]]
    if any(matches):
        return f"staff-token:{key[:8]}"
    with database().begin() as db:
        account = staff.staff_by_token_hash(db, key)
        return f"staff:{account.name}" if account is not None else None


def check_settings(config: dict[str, Any]) -> None:
    """Fill in the session and throttling settings; a ConfigError naming the bad one otherwise."""
    for name, default in SETTINGS.items():
        value = config.setdefault(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a whole number of at least 1, not {value!r}")


def _setting(name: str) -> int:
    return int(current_app.config[name])


def _session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _client() -> str:
    """The client's address as a keyed hash: failures are counted per address without storing one."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"dashboard-login:" + (request.remote_addr or "").encode(), hashlib.sha256).hexdigest()


def _window() -> timedelta:
    return timedelta(seconds=_setting("DASHBOARD_LOGIN_WINDOW_SECONDS"))


def login_wait() -> int:
    """Seconds this client must wait before its next sign-in attempt (0: it may try now)."""
    with database().begin() as db:
        return staff_sessions.retry_after(db, _client(), _setting("DASHBOARD_LOGIN_FAILURES_PER_ADDRESS"),
                                          _setting("DASHBOARD_LOGIN_FAILURES_GLOBAL"), _window())


def record_failure() -> None:
    """Count a failed sign-in of this client, for every worker to see."""
    with database().begin() as db:
        staff_sessions.record_failure(db, _client(), _window())


def sign_in(token: str) -> str | None:
    """Start a fresh staff session for a valid token (new ids defeat fixation); the actor, or None."""
    presented = token.strip()
    if not presented or len(presented) > 256:
        return None
    key = token_hash(presented)
    actor = actor_for_hash(key)
    if actor is not None:
        session_id = secrets.token_urlsafe(32)
        lifetime = timedelta(hours=_setting("DASHBOARD_SESSION_HOURS"))
        with database().begin() as db:
            _close(db)
            staff_sessions.open_session(db, _session_hash(session_id), key, lifetime)
        session.clear()
        session["sid"] = session_id
        session["form_id"] = secrets.token_urlsafe(16)
    return actor


def _close(db: Session) -> None:
    previous = session.get("sid")
    if isinstance(previous, str):
        staff_sessions.close_session(db, _session_hash(previous))


def sign_out() -> None:
    """End this session on the server, so a copy of the cookie stops working too, and clear the cookie."""
    with database().begin() as db:
        _close(db)
    session.clear()


def current_actor() -> str | None:
    """The signed-in staff member, checked on every request: an ended or expired session, or a removed
    token or account, signs out at once."""
    session_id = session.get("sid")
    if not isinstance(session_id, str) or not session_id:
        return None
    with database().begin() as db:
        key = staff_sessions.session_token(db, _session_hash(session_id))
    return actor_for_hash(key) if key is not None else None


def form_token() -> str:
    """The CSRF field for forms of this session (a sign-in form gets an anonymous session id)."""
    if "form_id" not in session:
        session["form_id"] = secrets.token_urlsafe(16)
    return csrf.issue(str(current_app.config["SECRET_KEY"]), "dashboard", session["form_id"])


def check_form() -> None:
    """400 unless the POST carries this session's CSRF field."""
    secret = str(current_app.config["SECRET_KEY"])
    if not csrf.valid(secret, "dashboard", str(session.get("form_id", "")), request.form.get(csrf.FIELD)):
        abort(400, "the form is too old or was not sent from this dashboard; reload it and try again")


def staff_required(view: F) -> F:
    """Redirect to sign-in unless a staff member is signed in; POSTs must also carry the CSRF field."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_app.config.get("SECRET_KEY"):
            abort(503, "SECRET_KEY is not configured: staff sessions cannot be signed")
        actor = current_actor()
        if actor is None:
            return redirect(url_for("dashboard.login", next=request.full_path if request.method == "GET" else None))
        if request.method == "POST":
            check_form()
        return view(*args, actor=actor, **kwargs)

    return wrapped  # type: ignore[return-value]
