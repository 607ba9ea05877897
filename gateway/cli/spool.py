"""`flask --app wsgi spool status|replay`: the local spool of messages received while the database was down."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from gateway.inbound.spool import InboundSpool

spool_cli = AppGroup("spool", help="The local spool of messages received while the database was down.")


def _spool() -> InboundSpool:
    spool: InboundSpool = current_app.extensions["gateway.spool"]
    return spool


@spool_cli.command("status")
def spool_status() -> None:
    """Print how many messages wait for the database."""
    status = _spool().spool.status()
    click.echo(f"spool {status.path}: {status.pending} pending")
    if status.oldest_pending:
        click.echo(f"oldest pending since {status.oldest_pending}")
    if status.last_error:
        click.echo(f"last replay error: {status.last_error}")


@spool_cli.command("replay")
def spool_replay() -> None:
    """Replay waiting messages into the database now, in order; exit 1 if some still wait."""
    result = _spool().replay()
    click.echo(f"applied {result.applied}, already applied {result.duplicates},"
               f" dropped as erased {result.erased}, pending {result.pending}")
    if result.pending:
        raise click.ClickException(f"{result.pending} messages still wait: {result.error}")
