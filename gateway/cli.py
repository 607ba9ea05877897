"""Operator commands: `flask --app wsgi db upgrade`, `dev-secrets`, `simulate`."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from gateway import cli_ops, config, simulator
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


@click.command("simulate")
@click.argument("body")
@click.option("--from", "from_", default="+14155550100", show_default=True, help="The person's number.")
@click.option("--to", default="+18005550199", show_default=True, help="Your sending number or short code.")
@click.option("--service", default=None, help="A Messaging Service SID (MG...).")
@click.option("--sid", default=None, help="MessageSid to use (repeat one to simulate a retry).")
@click.option("--url", default=None, help="Gateway base URL [default: http://127.0.0.1:$PORT].")
def simulate(body: str, from_: str, to: str, service: str | None, sid: str | None, url: str | None) -> None:
    """Sign an inbound SMS exactly as Twilio does, post it to a running gateway, print the TwiML answer."""
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    if not token:
        raise click.ClickException("no TWILIO_AUTH_TOKEN and no development token; run `make run` first")
    base = (url or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}").rstrip("/")
    path = "/webhooks/twilio/sms"
    public = current_app.config["PUBLIC_BASE_URL"]
    form = simulator.inbound_form(body, from_, to, message_sid=sid, messaging_service_sid=service)
    try:
        status, answer = simulator.post(base + path, form, token, sign_url=(public.rstrip("/") + path) if public else None)
    except OSError as error:  # URLError included: nothing listens there, or it did not answer in time
        reason = getattr(error, "reason", error)
        raise click.ClickException(f"no gateway answered at {base} ({reason}); start one with `make run`") from None
    click.echo(f"HTTP {status} (MessageSid {form['MessageSid']})")
    click.echo(answer)
    if status >= 400:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    """Register the operator commands on the app."""
    app.cli.add_command(db_cli)
    app.cli.add_command(dev_secrets)
    app.cli.add_command(simulate)
    cli_ops.init_app(app)
