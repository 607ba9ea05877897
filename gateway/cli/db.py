"""`flask --app wsgi db upgrade` and `dev-secrets`: the schema, and local development secrets."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from gateway import config
from storage import migrate

db_cli = AppGroup("db", help="Database schema commands.")


@db_cli.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the migrations to DATABASE_URL."""
    url = current_app.config["DATABASE_URL"]
    migrate.upgrade(url, revision)
    click.echo(f"database at {_safe(url)} is at {revision}")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.command("dev-secrets")
def dev_secrets() -> None:
    """Create local development secrets under instance/ when the environment gives none."""
    instance = Path(current_app.instance_path)
    if not os.environ.get("TWILIO_AUTH_TOKEN"):
        path, created = config.ensure_dev_secret(instance, config.DEV_TWILIO_TOKEN_FILE)
        click.echo(f"TWILIO_AUTH_TOKEN unset: {'generated' if created else 'using'} development token in {path}")
    if not os.environ.get("API_TOKENS"):
        path, created = config.ensure_dev_secret(instance, config.DEV_API_TOKEN_FILE)
        click.echo(f"API_TOKENS unset: {'generated' if created else 'using'} development API token in {path}")
    if not (os.environ.get("SECRET_KEY") or os.environ.get("GATEWAY_SECRET_KEY")):
        path, created = config.ensure_dev_secret(instance, config.DEV_SECRET_KEY_FILE)
        click.echo(f"SECRET_KEY unset: {'generated' if created else 'using'} development link/session key in {path}")
    if not os.environ.get("STAFF_TOKENS"):
        path, created = config.ensure_dev_secret(instance, config.DEV_STAFF_TOKEN_FILE)
        click.echo(f"STAFF_TOKENS unset: {'generated' if created else 'using'} development dashboard token in {path}")
