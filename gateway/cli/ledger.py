"""`flask --app wsgi ledger ...`: verify the hash chain, evidence, erasure, key rotation."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from gateway.current import database, spool
from storage import consent, erasure, ledger
from storage.ledger import rekey
from storage.ledger import evidence

from gateway.cli import arguments

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


@ledger_cli.command("head")
def head() -> None:
    """Print the chain's head (last id and hash): note it outside the database to anchor the chain."""
    with database().begin() as session:
        last_id, last_hash = ledger.head(session)
    click.echo(f"{last_id} {last_hash}")


@ledger_cli.command("history")
@click.argument("number")
@click.option("--format", "form", type=click.Choice(["json", "text"]), default="text", show_default=True)
def history(number: str, form: str) -> None:
    """The full consent history of NUMBER, for an audit."""
    with database().begin() as session:
        record = evidence.history(session, arguments.number(number))
    click.echo(json.dumps(record, indent=2, ensure_ascii=False) if form == "json" else evidence.as_text(record), nl=form == "json")


@ledger_cli.command("erase")
@click.argument("number")
@click.option("--reason", required=True, help="Why (e.g. the request's reference); kept in the ledger.")
@click.option("--actor", default=None, help="Who asked for it [default: cli:<user>].")
def erase(number: str, reason: str, actor: str | None) -> None:
    """Erase NUMBER's messages and personal data; it stays blocked through its keyed hash."""
    # This machine's spool too: its messages from the number go with the rest.
    local = spool()
    report = erasure.erase_number(database(), arguments.number(number), actor=actor or arguments.default_actor(),
                                  reason=reason, spool=local.spool if local is not None else None)
    changed = ", ".join(f"{name} {count}" for name, count in report.rows.items() if count)
    click.echo(f"erased: subject {report.subject}, ledger event {report.event_id}; rows: {changed or 'none'}")


@ledger_cli.command("reencrypt")
def reencrypt() -> None:
    """Re-encrypt stored bodies and explanations under the first of LEDGER_KEYS (key rotation)."""
    counts = rekey.reencrypt(database().begin)
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))
