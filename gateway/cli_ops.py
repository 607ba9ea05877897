"""Operator commands for the consent ledger and the suppression list: `flask --app wsgi ledger ...`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from gateway.state import database
from storage import ledger

ledger_cli = AppGroup("ledger", help="Consent ledger: verify the hash chain, evidence, erasure, key rotation.")


@ledger_cli.command("verify")
def verify() -> None:
    """Recompute the hash chain; exit 1 and name the first broken event if any."""
    with database().begin() as session:
        result = ledger.verify_chain(session)
    if result.ok:
        click.echo(f"ok: {result.checked} events, head {result.head_id} {result.head_hash}")
        return
    click.echo(f"BROKEN at event {result.first_broken_id}: {result.reason} ({result.checked} events verified before it)")
    raise SystemExit(1)


@ledger_cli.command("seal")
def seal() -> None:
    """Chain the events written before the chain existed (done by the first append anyway)."""
    with database().begin() as session:
        last_id, last_hash = ledger.lock_head(session)
    click.echo(f"head {last_id} {last_hash}")


def init_app(app: Flask) -> None:
    """Register the ledger commands."""
    app.cli.add_command(ledger_cli)
