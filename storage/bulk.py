"""Set-based suppression work for large lists: CSV import, campaign scrub, streaming export.

Numbers reach the database in one piece, never one query per number: PostgreSQL gets them by
binary `COPY`, SQLite as `executemany` or, for numbers only looked up, one JSON array read by
`json_each` (sorted, so the index probes walk the index in order). An import is one transaction:
every row gets its own chained ledger event (source `import`, the batch and line in `rule`), the
suppressions are written from those events by one INSERT ... SELECT, or nothing is written at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, String, column, func, insert, literal, or_, select, table, text, update
from sqlalchemy.orm import Session

from storage import crypto, ledger
from storage.models import ALL_TOPICS, GLOBAL_SCOPE, ConsentEvent, Suppression
from storage.types import utcnow

EXPORT_BATCH = 10_000
SQLITE_BULK_CACHE_KB = 65_536
EVENT_COLUMNS = (
    "id", "number", "sender_scope", "topic", "changed", "rule", "subject", "prev_hash", "hash", "source", "actor", "rules_version",
)
"""The columns `_Chain.events` gives for each event of an import; the others hold the batch's constants."""

Key = tuple[str, str, str]
"""(number, sender scope, topic): what one suppression row stands for."""
_NEW = object()
"""`_existing` has no entry for a key that has no suppression yet."""


class ImportRow(NamedTuple):
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


def copy_rows(session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
              constants: Mapping[str, Any] | None = None) -> None:
    """Bulk-load rows into a table: PostgreSQL binary COPY, SQLite executemany.

    `constants` are columns every row shares, values this module made (never user input): SQLite
    binds every value of every row, so they go into the statement as literals instead.
    """
    connection = session.connection().connection.dbapi_connection
    assert connection is not None
    constants = constants or {}
    names = ", ".join((*columns, *constants))
    if _dialect(session) == "postgresql":
        shared = tuple(constants.values())
        with connection.cursor() as cursor:
            cursor.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0", (table,))
            types = dict(cursor.fetchall())
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:  # type: ignore[attr-defined]
                copy.set_types([types[name] for name in (*columns, *constants)])
                for row in rows:
                    copy.write_row((*row, *shared))
        return
    dialect = session.get_bind().dialect
    values = [*("?" for _ in columns), *(str(literal(value).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
                                         for value in constants.values())]
    cursor = connection.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(values)})", rows)
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


def _listed(session: Session, numbers: Iterable[str]) -> ColumnElement[str]:
    """The distinct `numbers` as a column to join on: a COPY-filled temporary table, or SQLite's json_each."""
    distinct = dict.fromkeys(numbers)
    if _dialect(session) == "postgresql":
        _temp_table(session, "listed_numbers", "number VARCHAR(32)")
        copy_rows(session, "listed_numbers", ("number",), ((number,) for number in distinct))
        return table("listed_numbers", column("number", String)).c.number
    # Sorted, SQLite's index probes walk the index in order (twice as fast); a list in file order often is already.
    return func.json_each(json.dumps(sorted(distinct))).table_valued(column("value", String)).c.value


def _existing(session: Session, keys: Iterable[Key]) -> dict[Key, datetime | None]:
    """The suppressions already held for these keys, with their `until` (None: permanent)."""
    wanted = set(keys)
    listed = _listed(session, (number for number, _, _ in wanted))
    query = (select(Suppression.number, Suppression.sender_scope, Suppression.topic, Suppression.until)
             .join_from(listed.table, Suppression, Suppression.number == listed))  # type: ignore[attr-defined]
    return {(number, scope, topic): until for number, scope, topic, until in session.execute(query) if (number, scope, topic) in wanted}


class _Chain:
    """An import's ledger events, chained on from the head: the `EVENT_COLUMNS` of each, in order."""

    def __init__(self, head_id: int, head_hash: str, *, batch: str, source: str, note: str | None, actor: str,
                 created: datetime) -> None:
        keyring = crypto.current()
        self.last_id, self.last_hash = head_id, head_hash
        self.given = (source, actor, note)
        self.digest = keyring.digest
        self.content_digest = keyring.digest(crypto.canonical_json({}))
        self.rule = f"import {batch} line "
        # The JSON text `ledger.hash_values` would encode, built from parts: the same bytes, at a
        # fraction of the cost for a million rows (tests/storage/test_bulk.py verifies the chain).
        encode = ledger.encode_value
        self.middle = f'"opt_out",null,{encode(source)},'
        self.end = (f',null,null,null,{encode(note)},{encode(actor)},{encode(self.content_digest)},'
                    f'{encode(created.isoformat(timespec="microseconds"))}]')

    def events(self, rows: Mapping[Key, ImportRow], existing: Mapping[Key, datetime | None]) -> Iterator[tuple[Any, ...]]:
        """One event per row; `changed` (1 or 0: SQLite binds an int faster than a bool) unless already suppressed for good."""
        encode, digest, hash_text, given, rule_prefix, middle, end = (
            ledger.encode_value, self.digest, ledger.hash_text, self.given, self.rule, self.middle, self.end)
        encoded_text: dict[str, str] = {}
        event_id, prev_hash = self.last_id, self.last_hash
        for key, (line, number, scope, topic) in rows.items():
            event_id += 1
            changed = 1 if existing.get(key, _NEW) is not None else 0
            subject, rule = digest(number), f"{rule_prefix}{line}"
            scope_json = encoded_text.get(scope) or encoded_text.setdefault(scope, encode(scope))
            topic_json = encoded_text.get(topic) or encoded_text.setdefault(topic, encode(topic))
            event_hash = hash_text(prev_hash, f'[{event_id},"{subject}",{scope_json},{topic_json},{middle}'
                                              f'{"true" if changed else "false"},null,null,"{rule}"{end}')
            yield event_id, number, scope, topic, changed, rule, subject, prev_hash, event_hash, *given
            prev_hash = event_hash
        self.last_id, self.last_hash = event_id, prev_hash


def _suppress_events(session: Session, after_id: int, last_id: int, pauses: bool) -> None:
    """Suppress what the changed events after `after_id` stand for: new suppressions, and `pauses` made permanent."""
    events = ConsentEvent.__table__
    changed = (events.c.id > after_id, events.c.id <= last_id, events.c.changed.is_(True))
    same_key = (Suppression.number == events.c.number, Suppression.sender_scope == events.c.sender_scope,
                Suppression.topic == events.c.topic)
    new = select(events.c.number, events.c.sender_scope, events.c.topic, events.c.source, events.c.id, events.c.created_at)
    if pauses:
        session.execute(
            update(Suppression.__table__).where(*changed, *same_key, Suppression.until.is_not(None))
            .values(until=None, source=events.c.source, event_id=events.c.id, created_at=events.c.created_at)
        )
        new = new.where(~select(Suppression.id).where(*same_key).exists())
    # Without pauses among them, every changed event is a new suppression: a plain insert, the cheapest.
    session.execute(insert(Suppression.__table__).from_select(
        ("number", "sender_scope", "topic", "source", "event_id", "created_at"), new.where(*changed)))


def import_suppressions(
    session: Session, rows: Sequence[ImportRow], *, actor: str, source: str = "import", note: str | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Suppress every row's (number, scope, topic) with one ledger event each; pauses become permanent."""
    # UTC, as the database gives it back when the chain is verified.
    now = (now or utcnow()).astimezone(timezone.utc)
    batch = uuid.uuid4().hex[:12]
    _bulk_cache(session)
    unique: dict[Key, ImportRow] = {}
    for row in rows:
        unique.setdefault((row.number, row.scope, row.topic), row)
    # The head first: no consent change commits between reading the list below and writing to it.
    head_id, head_hash = ledger.lock_head(session)
    existing = _existing(session, unique)
    chain = _Chain(head_id, head_hash, batch=batch, source=source, note=note, actor=actor, created=now)
    constants = {"action": "opt_out", "explanation": crypto.EMPTY_JSON, "created_at": _db_time(session, now),
                 "content_digest": chain.content_digest}
    copy_rows(session, "consent_events", EVENT_COLUMNS, chain.events(unique, existing), constants)
    if unique:
        _suppress_events(session, head_id, chain.last_id, pauses=any(until is not None for until in existing.values()))
        session.execute(update(ledger.LedgerHead).where(ledger.LedgerHead.id == ledger.HEAD_ID)
                        .values(last_id=chain.last_id, last_hash=chain.last_hash))
    return ImportResult(
        batch=batch, rows=len(rows), added=len(unique) - len(existing), already=sum(until is None for until in existing.values()),
        repeated=len(rows) - len(unique),
        first_event_id=head_id + 1 if unique else None, last_event_id=chain.last_id if unique else None,
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
    listed = _listed(session, numbers)
    query = select(Suppression.number).join_from(listed.table, Suppression, Suppression.number == listed)  # type: ignore[attr-defined]
    suppressed = set(session.scalars(query.where(*_active(now, sender, topic))))
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
