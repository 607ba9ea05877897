"""Set-based suppression work for large lists: CSV import, campaign scrub, streaming export.

Numbers reach the database in one piece, never one query per number: PostgreSQL gets them by
binary `COPY`, SQLite as `executemany` or, for numbers only looked up, one JSON array read by
`json_each` (sorted, so the index probes walk the index in order). An import is one transaction:
every row gets its own chained ledger event (source `import`, the batch and line in `rule`), the
suppressions are written from those events by one INSERT ... SELECT, or nothing is written at all.
"""

from __future__ import annotations

import gc
import itertools
import json
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import ColumnElement, String, Table, column, delete, func, insert, literal, or_, select, table, text, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session

from storage import crypto, ledger

from storage.ledger import import_chain
from storage.consent.planner import Subscribed
from storage.ledger.import_chain import EVENT_COLUMNS, ChainStart, Hashing, Key
from storage.models import ALL_TOPICS, GLOBAL_SCOPE, ConsentEvent, Suppression
from storage.subscriptions import Subscription
from storage.types import utcnow

if TYPE_CHECKING:
    import psycopg

EXPORT_BATCH = 10_000
SQLITE_BULK_CACHE_KB = 65_536
WRITE_CHUNK = 20_000
SUPPRESSIONS, EVENTS = cast(Table, Suppression.__table__), cast(Table, ConsentEvent.__table__)
SUBSCRIPTIONS = cast(Table, Subscription.__table__)
SQLITE_ROWS_PER_INSERT = 50
"""SQLite executes one statement per group of rows: a fifth less work per row than one row a statement."""


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


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: a million new row tuples hold no cycles, but the collector would walk them again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


Db = Session | Connection
"""Scrub and export also run on `Database.read`'s connection, which takes no SQLite write lock."""


def _dialect(db: Db) -> Dialect:
    return db.dialect if isinstance(db, Connection) else db.get_bind().dialect


def _dbapi(db: Db) -> Any:
    connection = (db if isinstance(db, Connection) else db.connection()).connection.dbapi_connection
    assert connection is not None
    return connection


def _db_time(session: Session, value: datetime) -> Any:
    """A timestamp as the driver wants it in a raw statement (SQLite: SQLAlchemy's naive UTC text)."""
    if _dialect(session).name == "sqlite":
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value


def copy_rows(session: Db, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
              constants: Mapping[str, Any] | None = None) -> None:
    """Bulk-load rows into a table: PostgreSQL binary COPY, SQLite executemany.

    `constants` are columns every row shares, values this module made (never user input): SQLite
    binds every value of every row, so they go into the statement as literals instead.
    """
    connection = _dbapi(session)
    constants = constants or {}
    dialect = _dialect(session)
    if dialect.name == "postgresql":
        _copy(cast("psycopg.Connection[Any]", connection), table, (*columns, *constants), rows, tuple(constants.values()))
        return
    values = [*("?" for _ in columns), *(str(literal(value).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
                                         for value in constants.values())]
    insert = f"INSERT INTO {table} ({', '.join((*columns, *constants))}) VALUES "
    row = f"({', '.join(values)})"
    tail: list[Sequence[Any]] = []
    cursor = connection.cursor()
    try:
        # sqlite3 takes any iterable here, so a generator's rows are never all held in memory.
        cursor.executemany(insert + ", ".join([row] * SQLITE_ROWS_PER_INSERT),
                           _flat_groups(rows, SQLITE_ROWS_PER_INSERT, tail))
        cursor.executemany(insert + row, tail)
    finally:
        cursor.close()


def _flat_groups(rows: Iterable[Sequence[Any]], size: int, tail: list[Sequence[Any]]) -> Iterator[tuple[Any, ...]]:
    """The values of `size` rows at a time, in one tuple; a last, shorter group is left in `tail`."""
    iterator = iter(rows)
    while len(group := list(itertools.islice(iterator, size))) == size:
        yield tuple(itertools.chain.from_iterable(group))
    tail.extend(group)


def _copy(connection: psycopg.Connection[Any], table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
          shared: tuple[Any, ...]) -> None:
    """PostgreSQL binary COPY, each row followed by the `shared` values, typed as the table's columns are."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0", (table,))
        types = dict(cursor.fetchall())
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([types[name] for name in columns])
            for row in rows:
                copy.write_row((*row, *shared))


def _bulk_cache(session: Db) -> None:
    """A million index inserts or probes thrash SQLite's default 2 MB page cache: this connection gets 64 MB."""
    if _dialect(session).name == "sqlite":
        session.execute(text(f"PRAGMA cache_size = -{SQLITE_BULK_CACHE_KB}"))


def _temp_table(session: Db, name: str, columns: str) -> None:
    if _dialect(session).name == "postgresql":
        session.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns}) ON COMMIT DROP"))
    else:
        session.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
        session.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns})"))


def _listed(session: Db, numbers: Iterable[str]) -> ColumnElement[str]:
    """The distinct `numbers` as a column to join on: a COPY-filled temporary table, or SQLite's json_each."""
    distinct = dict.fromkeys(numbers)
    if _dialect(session).name == "postgresql":
        _temp_table(session, "listed_numbers", "number VARCHAR(32)")
        copy_rows(session, "listed_numbers", ("number",), ((number,) for number in distinct))
        return table("listed_numbers", column("number", String)).c.number
    # Sorted, SQLite's index probes walk the index in order (twice as fast); a list in file order often is already.
    return func.json_each(json.dumps(sorted(distinct))).table_valued(column("value", String)).c.value


def _existing(session: Session, listed: ColumnElement[str], keys: Collection[Key],
              erased: Collection[str]) -> dict[Key, datetime | None]:
    """The suppressions already held for these keys (in file order: often sorted already), with their `until` (None: permanent).

    Every suppression of an `erased` pseudonym too: which rows of the file are an erased number is
    known only once they are hashed (`ImportChain.events`).
    """
    columns = SUPPRESSIONS.c
    query = (select(columns.number, columns.sender_scope, columns.topic, columns.until)
             .join_from(listed.table, SUPPRESSIONS, columns.number == listed))
    return {(number, scope, topic): until for number, scope, topic, until in session.execute(query)
            if (number, scope, topic) in keys or number in erased}


def _subscribed(session: Session, listed: ColumnElement[str]) -> dict[str, list[Subscribed]]:
    """The subscriptions of the listed numbers, by number, in id order (the planner ends those an opt-out covers)."""
    columns = SUBSCRIPTIONS.c
    found: dict[str, list[Subscribed]] = {}
    for row in session.execute(select(columns.number, columns.sender_scope, columns.topic, columns.status, columns.expires_at,
                                      columns.id).join_from(listed.table, SUBSCRIPTIONS, columns.number == listed)
                               .order_by(columns.id)):
        found.setdefault(row.number, []).append(Subscribed(row.sender_scope, row.topic, row.status, row.expires_at, id=row.id))
    return found


def _erased(session: Session) -> frozenset[str]:
    """The pseudonyms the suppression list holds: numbers erased (and not opted in again since)."""
    number = SUPPRESSIONS.c.number
    return frozenset(session.scalars(select(number).where(number.like(crypto.PSEUDONYM_PREFIX + "%")).distinct()))


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """`items` in lists of `size` (itertools.batched from Python 3.12)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _suppress_events(session: Session, after_id: int, last_id: int, pauses: bool) -> None:
    """Suppress what the changed events after `after_id` stand for: new suppressions, and `pauses` made permanent."""
    events, suppressions = EVENTS.c, SUPPRESSIONS.c
    changed = (events.id > after_id, events.id <= last_id, events.changed.is_(True))
    same_key = (suppressions.number == events.number, suppressions.sender_scope == events.sender_scope,
                suppressions.topic == events.topic)
    new = select(events.number, events.sender_scope, events.topic, events.source, events.id, events.created_at)
    if pauses:
        session.execute(
            update(SUPPRESSIONS).where(*changed, *same_key, suppressions.until.is_not(None))
            .values(until=None, source=events.source, event_id=events.id, created_at=events.created_at)
        )
        new = new.where(~select(suppressions.id).where(*same_key).exists())
    # Without pauses among them, every changed event is a new suppression: a plain insert, the cheapest.
    session.execute(insert(SUPPRESSIONS).from_select(
        ("number", "sender_scope", "topic", "source", "event_id", "created_at"), new.where(*changed)))


def _end_subscriptions(session: Session, explained: list[tuple[int, dict[str, Any]]], ended: list[int]) -> None:
    """The subscriptions the import ended, and the explanations of the events that ended them (the chain has their digests)."""
    for event_id, explanation in explained:
        sealed = crypto.seal_json(explanation)
        session.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(explanation=sealed, content_digest=sealed.digest))
    if ended:
        session.execute(delete(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id.in_(ended)))


@collector_paused()
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
        unique.setdefault(row[1:], row)  # (number, scope, topic)
    # The head first: no consent change commits between reading the list below and writing to it.
    head_id, head_hash = ledger.lock_head(session)
    erased = _erased(session)
    start = ChainStart(head_id, head_hash, batch=batch, source=source, note=note, actor=actor, created=now, erased=erased)
    # PostgreSQL's server already writes on the other core while this process hashes and streams COPY
    # data to it: a helper would only add its pickling. SQLite writes in this very process.
    helper = _dialect(session).name == "sqlite" and len(unique) >= import_chain.HELPER_ROWS
    with Hashing(start, helper=helper) as chain:
        listed = _listed(session, itertools.chain(map(itemgetter(0), unique), erased))
        existing, subscribed = _existing(session, listed, unique, erased), _subscribed(session, listed)
        constants = {"action": "opt_out", "explanation": crypto.EMPTY_JSON, "created_at": _db_time(session, now),
                     "content_digest": chain.content_digest}
        # An event changed only because it ended a subscription may find its suppression there already.
        pauses = bool(subscribed) or any(until is not None for until in existing.values())
        # A chunk of events, then their suppressions: the events' pages are still in memory when the
        # suppressions' foreign keys look them up (on PostgreSQL, locking each one).
        after = head_id
        for chunk in _batches(chain.events(unique.values(), existing, subscribed), WRITE_CHUNK):
            copy_rows(session, "consent_events", EVENT_COLUMNS, chunk, constants)
            _suppress_events(session, after, chunk[-1][0], pauses)
            after = chunk[-1][0]
        _end_subscriptions(session, chain.explained, chain.ended)
    if unique:
        session.execute(update(ledger.LedgerHead).where(ledger.LedgerHead.id == ledger.HEAD_ID)
                        .values(last_id=chain.last_id, last_hash=chain.last_hash))
    return ImportResult(
        batch=batch, rows=len(rows), added=chain.added, already=chain.already, repeated=len(rows) - len(unique),
        first_event_id=head_id + 1 if unique else None, last_event_id=chain.last_id if unique else None,
    )


def _active(now: datetime, sender: str | None, topic: str | None) -> list[Any]:
    conditions: list[Any] = [or_(SUPPRESSIONS.c.until.is_(None), SUPPRESSIONS.c.until > now)]
    if sender is not None:
        conditions.append(SUPPRESSIONS.c.sender_scope.in_((sender, GLOBAL_SCOPE)))
    if topic is not None:
        conditions.append(SUPPRESSIONS.c.topic.in_((topic, ALL_TOPICS)))
    return conditions


def scrub(session: Db, numbers: Sequence[str], sender: str | None, topic: str | None,
          now: datetime | None = None) -> set[str]:
    """Which of `numbers` (E.164) `sender` must not text about `topic`, erased numbers included."""
    now = now or utcnow()
    _bulk_cache(session)
    listed = _listed(session, numbers)
    # Core rows, not ORM ones: half a million of them.
    number = SUPPRESSIONS.c.number
    suppressed = set(session.scalars(select(number).join_from(listed.table, SUPPRESSIONS, number == listed)
                                     .where(*_active(now, sender, topic))))
    erased = set(session.scalars(select(number).where(number.like(crypto.PSEUDONYM_PREFIX + "%"), *_active(now, sender, topic))))
    if erased:
        # An erased number is kept only as its keyed hash: hash the rest of the list to find it.
        keyring = crypto.current()
        suppressed |= {number for number in set(numbers) - suppressed if keyring.pseudonym(number) in erased}
    return suppressed


def export(session: Db, sender: str | None = None, topic: str | None = None,
           now: datetime | None = None) -> Iterator[tuple[str, str, str, datetime | None, str, datetime]]:
    """Every active suppression (number, scope, topic, until, source, since), streamed; erased numbers left out."""
    columns = SUPPRESSIONS.c
    query = (
        select(columns.number, columns.sender_scope, columns.topic, columns.until, columns.source, columns.created_at)
        .where(*_active(now or utcnow(), sender, topic), columns.number.not_like(crypto.PSEUDONYM_PREFIX + "%"))
        .order_by(columns.id)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    for row in session.execute(query):
        yield tuple(row)
