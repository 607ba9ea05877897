"""Set-based suppression work for large lists: CSV import, campaign scrub, streaming export.

Rows travel through a temporary table and one join (PostgreSQL `COPY`, SQLite `executemany`),
never one query per number. An import is one transaction: every row gets its own chained ledger
event (source `import`, the batch and line in `rule`), or nothing is written at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import column, or_, select, table, text, update
from sqlalchemy.orm import Session

from storage import crypto, ledger
from storage.models import ALL_TOPICS, GLOBAL_SCOPE, Suppression
from storage.types import utcnow

EXPORT_BATCH = 10_000
SQLITE_BULK_CACHE_KB = 65_536
EVENT_COLUMNS = (
    "id", "number", "sender_scope", "topic", "action", "until", "source", "changed", "inbound_message_id",
    "delivery_report_id", "rule", "tier", "score", "language", "rules_version", "actor", "explanation",
    "created_at", "subject", "content_digest", "prev_hash", "hash",
)
SUPPRESSION_COLUMNS = ("number", "sender_scope", "topic", "until", "source", "event_id", "created_at")


@dataclass(frozen=True)
class ImportRow:
    """One valid row of an import: its line in the file, the E.164 number, sender scope and topic."""

    line: int
    number: str
    scope: str
    topic: str = ALL_TOPICS


@dataclass(frozen=True)
class ImportResult:
    """What an import did: new suppressions, ones already there, repeated rows, and its ledger events."""

    batch: str
    rows: int
    added: int
    already: int
    repeated: int
    first_event_id: int | None
    last_event_id: int | None


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _db_time(session: Session, value: datetime) -> Any:
    """A timestamp as the driver wants it in a raw statement (SQLite: SQLAlchemy's naive UTC text)."""
    if _dialect(session) == "sqlite":
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value


def copy_rows(session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Bulk-load rows into a table: PostgreSQL COPY, SQLite executemany."""
    connection = session.connection().connection.dbapi_connection
    assert connection is not None
    names = ", ".join(columns)
    if _dialect(session) == "postgresql":
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        return
    cursor = connection.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})", rows)
    finally:
        cursor.close()


def _bulk_cache(session: Session) -> None:
    """A million index inserts or probes thrash SQLite's default 2 MB page cache: this connection gets 64 MB."""
    if _dialect(session) == "sqlite":
        session.execute(text(f"PRAGMA cache_size = -{SQLITE_BULK_CACHE_KB}"))


def _temp_table(session: Session, name: str, columns: str) -> None:
    if _dialect(session) == "postgresql":
        session.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns}) ON COMMIT DROP"))
    else:
        session.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
        session.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns})"))


def import_suppressions(
    session: Session, rows: Sequence[ImportRow], *, actor: str, source: str = "import", note: str | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Suppress every row's (number, scope, topic) with one ledger event each; pauses become permanent."""
    now = now or utcnow()
    batch = uuid.uuid4().hex[:12]
    _bulk_cache(session)
    unique: dict[tuple[str, str, str], ImportRow] = {}
    for row in rows:
        unique.setdefault((row.number, row.scope, row.topic), row)
    wanted = list(unique.values())
    _temp_table(session, "import_rows", "line INTEGER, number VARCHAR(32), scope VARCHAR(64), topic VARCHAR(64)")
    copy_rows(session, "import_rows", ("line", "number", "scope", "topic"), ((r.line, r.number, r.scope, r.topic) for r in wanted))
    existing = dict(
        session.execute(
            text(
                "SELECT t.line, s.until FROM import_rows t JOIN suppressions s"
                " ON s.number = t.number AND s.sender_scope = t.scope AND s.topic = t.topic"
            )
        ).all()
    )
    keyring = crypto.current()
    empty_digest = keyring.digest(crypto.canonical_json({}))
    created = now.isoformat(timespec="microseconds")
    # The JSON text `ledger.hash_values` would encode, built from parts: the same bytes, at a
    # fraction of the cost for a million rows (tests/storage/test_bulk.py verifies the chain).
    encode = ledger.encode_value
    tail = f'"opt_out",null,{encode(source)},'
    end = f',null,null,null,{encode(note)},{encode(actor)},{encode(empty_digest)},{encode(created)}]'
    scopes: dict[str, str] = {}
    topics: dict[str, str] = {}
    db_now = _db_time(session, now)
    last_id, last_hash = ledger.lock_head(session)
    first_id = last_id + 1
    events: list[tuple[Any, ...]] = []
    new_suppressions: list[tuple[Any, ...]] = []
    made_permanent: list[dict[str, Any]] = []
    for row in wanted:
        last_id += 1
        changed = row.line not in existing or existing[row.line] is not None
        rule = f"import {batch} line {row.line}"
        subject = keyring.digest(row.number)
        scope_json = scopes.get(row.scope) or scopes.setdefault(row.scope, encode(row.scope))
        topic_json = topics.get(row.topic) or topics.setdefault(row.topic, encode(row.topic))
        encoded = (f'[{last_id},"{subject}",{scope_json},{topic_json},{tail}{"true" if changed else "false"},'
                   f'null,null,"{rule}"{end}')
        last_hash_new = ledger.hash_text(last_hash, encoded)
        events.append((
            last_id, row.number, row.scope, row.topic, "opt_out", None, source, changed, None, None, rule, None, None,
            None, note, actor, crypto.EMPTY_JSON, db_now, subject, empty_digest, last_hash, last_hash_new,
        ))
        last_hash = last_hash_new
        if row.line not in existing:
            new_suppressions.append((row.number, row.scope, row.topic, None, source, last_id, db_now))
        elif changed:
            made_permanent.append({"n": row.number, "s": row.scope, "t": row.topic, "e": last_id})
    copy_rows(session, "consent_events", EVENT_COLUMNS, events)
    copy_rows(session, "suppressions", SUPPRESSION_COLUMNS, new_suppressions)
    for change in made_permanent:
        session.execute(
            update(Suppression)
            .where(Suppression.number == change["n"], Suppression.sender_scope == change["s"], Suppression.topic == change["t"])
            .values(until=None, source=source, event_id=change["e"], created_at=now)
        )
    session.execute(
        update(ledger.LedgerHead).where(ledger.LedgerHead.id == ledger.HEAD_ID).values(last_id=last_id, last_hash=last_hash)
    )
    return ImportResult(
        batch=batch, rows=len(rows), added=len(new_suppressions), already=len(wanted) - len(new_suppressions) - len(made_permanent),
        repeated=len(rows) - len(wanted), first_event_id=first_id if events else None, last_event_id=last_id if events else None,
    )


def _active(now: datetime, sender: str | None, topic: str | None) -> list[Any]:
    conditions: list[Any] = [or_(Suppression.until.is_(None), Suppression.until > now)]
    if sender is not None:
        conditions.append(Suppression.sender_scope.in_((sender, GLOBAL_SCOPE)))
    if topic is not None:
        conditions.append(Suppression.topic.in_((topic, ALL_TOPICS)))
    return conditions


def scrub(session: Session, numbers: Sequence[str], sender: str | None, topic: str | None,
          now: datetime | None = None) -> set[str]:
    """Which of `numbers` (E.164) `sender` must not text about `topic`, erased numbers included."""
    now = now or utcnow()
    _bulk_cache(session)
    _temp_table(session, "scrub_numbers", "number VARCHAR(32)")
    copy_rows(session, "scrub_numbers", ("number",), ((number,) for number in set(numbers)))
    listed = table("scrub_numbers", column("number"))
    query = (
        select(Suppression.number).distinct()
        .join(listed, listed.c.number == Suppression.number)
        .where(*_active(now, sender, topic))
    )
    suppressed = set(session.scalars(query))
    erased = set(session.scalars(
        select(Suppression.number).where(Suppression.number.like(crypto.PSEUDONYM_PREFIX + "%"), *_active(now, sender, topic))
    ))
    if erased:
        # An erased number is kept only as its keyed hash: hash the rest of the list to find it.
        keyring = crypto.current()
        suppressed |= {number for number in set(numbers) - suppressed if keyring.pseudonym(number) in erased}
    return suppressed


def export(session: Session, sender: str | None = None, topic: str | None = None,
           now: datetime | None = None) -> Iterator[tuple[str, str, str, datetime | None, str, datetime]]:
    """Every active suppression (number, scope, topic, until, source, since), streamed; erased numbers left out."""
    query = (
        select(Suppression.number, Suppression.sender_scope, Suppression.topic, Suppression.until, Suppression.source,
               Suppression.created_at)
        .where(*_active(now or utcnow(), sender, topic), Suppression.number.not_like(crypto.PSEUDONYM_PREFIX + "%"))
        .order_by(Suppression.id)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    for row in session.execute(query):
        yield tuple(row)  # type: ignore[misc]
