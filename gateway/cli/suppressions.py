"""`flask --app wsgi suppressions ...`: import, export, scrub, staff changes."""

from __future__ import annotations

from datetime import datetime
from typing import IO

import click
from flask.cli import AppGroup

from gateway.api import csv_rows
from gateway.current import database, import_reach, reached
from keywords.brands import REACHES
from storage import consent, ledger, lists
from storage.consent import bulk
from storage.models import ALL_TOPICS

from gateway.cli import arguments

suppressions_cli = AppGroup("suppressions", help="The suppression list: import, export, scrub, staff changes.")


@suppressions_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--sender", default=None, help="Sender scope for rows without one ('*': every sender).")
@click.option("--topic", default=None)
@click.option("--source", type=click.Choice(["import", "provider_export"]), default="import", show_default=True)
@click.option("--note", default=None, help="Where the list came from (kept in the ledger).")
@click.option("--actor", default=None, help="Who imports [default: cli:<user>].")
@click.option("--reach", type=click.Choice(REACHES), default=None,
              help="Cover only the number, its brand's senders or every sender [default: as the brand sets].")
def import_file(file: IO[bytes], sender: str | None, topic: str | None, source: str, note: str | None, actor: str | None,
                reach: str | None) -> None:
    """Import a CSV suppression list: every row or, with any bad row, none (bad rows listed by line)."""
    try:
        rows = csv_rows.import_rows(file, arguments.region(), arguments.scope(sender) if sender else None, arguments.topic(topic))
    except csv_rows.RowsRejected as rejected:
        for error in rejected.errors:
            click.echo(f"line {error.line}: {error.value!r}: {error.reason}", err=True)
        raise click.ClickException(str(rejected)) from None
    covers, explanation = import_reach(reach)
    with database().begin() as session:
        result = bulk.import_suppressions(session, rows, actor=actor or arguments.default_actor(), source=source, note=note,
                                          reach=covers, explanation=explanation)
    click.echo(f"batch {result.batch}: {result.rows} rows, {result.added} added, {result.already} already suppressed, "
               f"{result.repeated} repeated; {result.events} ledger events ({explanation['reach']})")


@suppressions_cli.command("export")
@click.option("--sender", default=None)
@click.option("--topic", default=None)
@click.option("--output", "-o", type=click.File("w"), default="-")
def export(sender: str | None, topic: str | None, output: IO[str]) -> None:
    """Write the active suppression list as CSV."""
    writer = csv_rows.export_writer(output)  # spreadsheet-safe, as the API's export
    writer.writerow(csv_rows.EXPORT_COLUMNS)
    with database().read() as connection:
        for row in lists.export(connection, arguments.scope(sender) if sender else None, arguments.topic(topic) if topic else None):
            writer.writerow(csv_rows.export_row(*row))


@suppressions_cli.command("scrub")
@click.argument("file", type=click.File("rb"))
@click.option("--sender", required=True)
@click.option("--topic", default=None)
@click.option("--output", "-o", type=click.File("w"), default="-", help="Where the allowed numbers go.")
def scrub(file: IO[bytes], sender: str, topic: str | None, output: IO[str]) -> None:
    """Write the numbers of FILE that SENDER may text; counts and invalid rows go to stderr."""
    numbers, invalid = csv_rows.number_csv(file, arguments.region())
    with database().read() as connection:
        suppressed = lists.scrub(connection, numbers, arguments.scope(sender), arguments.topic(topic) if topic else None)
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
@click.option("--reach", type=click.Choice(REACHES), default=None,
              help="Cover only the number, its brand's senders or every sender [default: as the brand sets].")
def suppress(number: str, sender: str | None, topic: str | None, until: str | None, reason: str, actor: str | None,
             reach: str | None) -> None:
    """Staff suppress NUMBER (recorded in the ledger with the reason)."""
    end = datetime.fromisoformat(until) if until else None
    if end is not None and end.tzinfo is None:
        raise click.BadParameter("--until needs a time zone offset")
    change = reached(consent.ConsentChange(
        number=arguments.number(number), scopes=(arguments.scope(sender),), action="pause" if end else "opt_out", topic=arguments.topic(topic),
        until=end, source="staff", actor=actor or arguments.default_actor(), explanation={"reason": reason},
    ), reach)
    with database().begin() as session:
        events = consent.apply_change(session, change)
    done = "suppressed" if any(e.changed for e in events) else "already suppressed"
    click.echo(f"events {', '.join(str(e.id) for e in events)}: {done} ({change.explanation['reach']}: {len(change.scopes)} scope(s))")


@suppressions_cli.command("unsuppress")
@click.argument("number")
@click.option("--sender", default=None, help="[default: every sender]")
@click.option("--topic", default=None)
@click.option("--reason", required=True)
@click.option("--actor", default=None)
@click.option("--reach", type=click.Choice(REACHES), default=None,
              help="Cover only the number, its brand's senders or every sender [default: as the brand sets].")
def unsuppress(number: str, sender: str | None, topic: str | None, reason: str, actor: str | None, reach: str | None) -> None:
    """Staff lift NUMBER's suppressions for a sender and a STOPALL (recorded with the reason)."""
    change = reached(consent.ConsentChange(
        number=arguments.number(number), scopes=(arguments.scope(sender),), action="opt_in", topic=arguments.topic(topic) if topic else ALL_TOPICS,
        source="staff", actor=actor or arguments.default_actor(), explanation={"reason": reason},
    ), reach)
    with database().begin() as session:
        events = consent.apply_change(session, change)
    click.echo(f"lifted {sum(e.changed for e in events)} suppression(s); events {', '.join(str(e.id) for e in events)}")
