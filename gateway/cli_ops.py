"""Operator commands: `flask --app wsgi ledger ...` and `flask --app wsgi suppressions ...`."""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from typing import IO

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from gateway.api import csv_rows
from gateway.errors import InvalidAddress
from gateway.state import database, spool
from storage import bulk, consent, erasure, evidence, ledger, rekey
from storage.models import ALL_TOPICS, GLOBAL_SCOPE

ledger_cli = AppGroup("ledger", help="Consent ledger: verify the hash chain, evidence, erasure, key rotation.")
suppressions_cli = AppGroup("suppressions", help="The suppression list: import, export, scrub, staff changes.")


def _default_actor() -> str:
    return f"cli:{getpass.getuser()}"


def _region() -> str:
    return str(current_app.config["DEFAULT_REGION"])


def _number(raw: str) -> str:
    try:
        return csv_rows.normalise(raw, _region())
    except InvalidAddress as error:
        raise click.BadParameter(f"{raw!r}: {error}") from None


def _scope(raw: str | None) -> str:
    if not raw:
        return GLOBAL_SCOPE
    try:
        return csv_rows.scope_of(raw, _region())
    except InvalidAddress as error:
        raise click.BadParameter(f"sender {raw!r}: {error}") from None


def _topic(raw: str | None) -> str:
    try:
        return csv_rows.topic_of(raw)
    except InvalidAddress as error:
        raise click.BadParameter(str(error)) from None


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
        record = evidence.history(session, _number(number))
    click.echo(json.dumps(record, indent=2, ensure_ascii=False) if form == "json" else evidence.as_text(record), nl=form == "json")


@ledger_cli.command("erase")
@click.argument("number")
@click.option("--reason", required=True, help="Why (e.g. the request's reference); kept in the ledger.")
@click.option("--actor", default=None, help="Who asked for it [default: cli:<user>].")
def erase(number: str, reason: str, actor: str | None) -> None:
    """Erase NUMBER's messages and personal data; it stays blocked through its keyed hash."""
    # This machine's spool too: its messages from the number go with the rest.
    local = spool()
    report = erasure.erase_number(database(), _number(number), actor=actor or _default_actor(), reason=reason,
                                  spool=local.spool if local is not None else None)
    changed = ", ".join(f"{name} {count}" for name, count in report.rows.items() if count)
    click.echo(f"erased: subject {report.subject}, ledger event {report.event_id}; rows: {changed or 'none'}")


@ledger_cli.command("reencrypt")
def reencrypt() -> None:
    """Re-encrypt stored bodies and explanations under the first of LEDGER_KEYS (key rotation)."""
    counts = rekey.reencrypt(database().begin)
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))


@suppressions_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--sender", default=None, help="Sender scope for rows without one ('*': every sender).")
@click.option("--topic", default=None)
@click.option("--source", type=click.Choice(["import", "provider_export"]), default="import", show_default=True)
@click.option("--note", default=None, help="Where the list came from (kept in the ledger).")
@click.option("--actor", default=None, help="Who imports [default: cli:<user>].")
def import_file(file: IO[bytes], sender: str | None, topic: str | None, source: str, note: str | None, actor: str | None) -> None:
    """Import a CSV suppression list: every row or, with any bad row, none (bad rows listed by line)."""
    try:
        rows = csv_rows.import_rows(file, _region(), _scope(sender) if sender else None, _topic(topic))
    except csv_rows.RowsRejected as rejected:
        for error in rejected.errors:
            click.echo(f"line {error.line}: {error.value!r}: {error.reason}", err=True)
        raise click.ClickException(str(rejected)) from None
    with database().begin() as session:
        result = bulk.import_suppressions(session, rows, actor=actor or _default_actor(), source=source, note=note)
    click.echo(f"batch {result.batch}: {result.rows} rows, {result.added} added, {result.already} already suppressed, "
               f"{result.repeated} repeated")


@suppressions_cli.command("export")
@click.option("--sender", default=None)
@click.option("--topic", default=None)
@click.option("--output", "-o", type=click.File("w"), default="-")
def export(sender: str | None, topic: str | None, output: IO[str]) -> None:
    """Write the active suppression list as CSV."""
    writer = csv_rows.export_writer(output)  # spreadsheet-safe, as the API's export
    writer.writerow(csv_rows.EXPORT_COLUMNS)
    with database().read() as connection:
        for row in bulk.export(connection, _scope(sender) if sender else None, _topic(topic) if topic else None):
            writer.writerow(csv_rows.export_row(*row))


@suppressions_cli.command("scrub")
@click.argument("file", type=click.File("rb"))
@click.option("--sender", required=True)
@click.option("--topic", default=None)
@click.option("--output", "-o", type=click.File("w"), default="-", help="Where the allowed numbers go.")
def scrub(file: IO[bytes], sender: str, topic: str | None, output: IO[str]) -> None:
    """Write the numbers of FILE that SENDER may text; counts and invalid rows go to stderr."""
    numbers, invalid = csv_rows.number_csv(file, _region())
    with database().read() as connection:
        suppressed = bulk.scrub(connection, numbers, _scope(sender), _topic(topic) if topic else None)
    allowed = list(dict.fromkeys(n for n in numbers if n not in suppressed))
    for number in allowed:
        output.write(number + "\n")
    for error in invalid:
        click.echo(f"line {error.line}: {error.value!r}: {error.reason}", err=True)
    click.echo(f"{len(allowed)} allowed, {len(suppressed)} suppressed, {len(invalid)} invalid", err=True)


@suppressions_cli.command("suppress")
@click.argument("number")
@click.option("--sender", default=None, help="[default: every sender]")
@click.option("--topic", default=None)
@click.option("--until", default=None, help="A pause: ISO time with offset.")
@click.option("--reason", required=True)
@click.option("--actor", default=None)
def suppress(number: str, sender: str | None, topic: str | None, until: str | None, reason: str, actor: str | None) -> None:
    """Staff suppress NUMBER (recorded in the ledger with the reason)."""
    end = datetime.fromisoformat(until) if until else None
    if end is not None and end.tzinfo is None:
        raise click.BadParameter("--until needs a time zone offset")
    change = consent.ConsentChange(
        number=_number(number), scopes=(_scope(sender),), action="pause" if end else "opt_out", topic=_topic(topic),
        until=end, source="staff", actor=actor or _default_actor(), explanation={"reason": reason},
    )
    with database().begin() as session:
        [event] = consent.apply_change(session, change)
    click.echo(f"event {event.id}: {'suppressed' if event.changed else 'already suppressed'}")


@suppressions_cli.command("unsuppress")
@click.argument("number")
@click.option("--sender", default=None, help="[default: every sender]")
@click.option("--topic", default=None)
@click.option("--reason", required=True)
@click.option("--actor", default=None)
def unsuppress(number: str, sender: str | None, topic: str | None, reason: str, actor: str | None) -> None:
    """Staff lift NUMBER's suppressions for a sender and a STOPALL (recorded with the reason)."""
    change = consent.ConsentChange(
        number=_number(number), scopes=(_scope(sender),), action="opt_in", topic=_topic(topic) if topic else ALL_TOPICS,
        source="staff", actor=actor or _default_actor(), explanation={"reason": reason},
    )
    with database().begin() as session:
        events = consent.apply_change(session, change)
    click.echo(f"lifted {sum(e.changed for e in events)} suppression(s); events {', '.join(str(e.id) for e in events)}")


def init_app(app: Flask) -> None:
    """Register the ledger and suppression-list commands."""
    app.cli.add_command(ledger_cli)
    app.cli.add_command(suppressions_cli)


