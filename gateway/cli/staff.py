"""`flask --app wsgi staff add|disable NAME`: compliance staff accounts for the dashboard."""

from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from gateway.current import database
from gateway.dashboard.auth import token_hash
from storage import staff

staff_cli = AppGroup("staff", help="Compliance staff accounts for the dashboard.")


@staff_cli.command("add")
@click.argument("name")
def add_staff(name: str) -> None:
    """Create a staff account and print its sign-in token (shown once; only a hash is kept)."""
    token = secrets.token_urlsafe(24)
    try:
        with database().begin() as db:
            staff.add_staff(db, name, token_hash(token))
    except IntegrityError:
        raise click.ClickException(f"a staff account named {name!r} already exists") from None
    click.echo(token)


@staff_cli.command("disable")
@click.argument("name")
def disable_staff(name: str) -> None:
    """Disable a staff account; its token and its open sessions stop working at once."""
    with database().begin() as db:
        if not staff.disable_staff(db, name):
            raise click.ClickException(f"no enabled staff account named {name!r}")
    click.echo(f"disabled {name}")
