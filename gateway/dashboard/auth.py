"""Staff sign-in for the dashboard: a staff token (STAFF_TOKENS or a staff account) exchanged for a session."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from flask import abort, current_app, redirect, request, session, url_for
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from gateway.pages import csrf
from gateway.state import database
from storage import feedback

F = TypeVar("F", bound=Callable[..., Any])
SESSION_HOURS = 12


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
        account = feedback.staff_by_token_hash(db, key)
        return f"staff:{account.name}" if account is not None else None


def sign_in(token: str) -> str | None:
    """Start a fresh staff session for a valid token (a new form id defeats fixation); the actor, or None."""
    presented = token.strip()
    if not presented or len(presented) > 256:
        return None
    key = token_hash(presented)
    actor = actor_for_hash(key)
    if actor is not None:
        session.clear()
        session["staff_key"] = key
        session["since"] = int(time.time())
        session["form_id"] = secrets.token_urlsafe(16)
    return actor


def current_actor() -> str | None:
    """The signed-in staff member, checked on every request so a removed token or account ends its sessions."""
    key = session.get("staff_key")
    if not key or time.time() - float(session.get("since", 0)) > SESSION_HOURS * 3600:
        return None
    return actor_for_hash(str(key))


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


staff_cli = AppGroup("staff", help="Compliance staff accounts for the dashboard.")


@staff_cli.command("add")
@click.argument("name")
def add_staff(name: str) -> None:
    """Create a staff account and print its sign-in token (shown once; only a hash is kept)."""
    token = secrets.token_urlsafe(24)
    try:
        with database().begin() as db:
            feedback.add_staff(db, name, token_hash(token))
    except IntegrityError:
        raise click.ClickException(f"a staff account named {name!r} already exists") from None
    click.echo(token)


@staff_cli.command("disable")
@click.argument("name")
def disable_staff(name: str) -> None:
    """Disable a staff account; its token and its open sessions stop working at once."""
    with database().begin() as db:
        if not feedback.disable_staff(db, name):
            raise click.ClickException(f"no enabled staff account named {name!r}")
    click.echo(f"disabled {name}")
