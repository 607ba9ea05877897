"""Large lists of numbers in one piece: bulk loading (COPY), campaign scrub, streaming export.

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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, String, Table, column, func, insert, literal, or_, select, table, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session

from storage import crypto
from storage.models import ALL_TOPICS, GLOBAL_SCOPE, ConsentEvent, Suppression
from storage.subscriptions import Subscription
from storage.types import utcnow

if TYPE_CHECKING:
    import psycopg

EXPORT_BATCH = 10_000
SQLITE_BULK_CACHE_KB = 65_536
SUPPRESSIONS, EVENTS = cast(Table, Suppression.__table__), cast(Table, ConsentEvent.__table__)
SUBSCRIPTIONS = cast(Table, Subscription.__table__)
SQLITE_ROWS_PER_INSERT = 50
"""SQLite executes one statement per group of rows: a fifth less work per row than one row a statement."""


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


def dialect(db: Db) -> Dialect:
    return db.dialect if isinstance(db, Connection) else db.get_bind().dialect


def _dbapi(db: Db) -> Any:
    connection = (db if isinstance(db, Connection) else db.connection()).connection.dbapi_connection
    assert connection is not None
    return connection


def db_time(session: Session, value: datetime) -> Any:
    """A timestamp as the driver wants it in a raw statement (SQLite: SQLAlchemy's naive UTC text)."""
    if dialect(session).name == "sqlite":
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
    backend = dialect(session)
    if backend.name == "postgresql":
        _copy(cast("psycopg.Connection[Any]", connection), table, (*columns, *constants), rows, tuple(constants.values()))
        return
    values = [*("?" for _ in columns), *(str(literal(value).compile(dialect=backend, compile_kwargs={"literal_binds": True}))
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


def bulk_cache(session: Db) -> None:
    """A million index inserts or probes thrash SQLite's default 2 MB page cache: this connection gets 64 MB."""
    if dialect(session).name == "sqlite":
        session.execute(text(f"PRAGMA cache_size = -{SQLITE_BULK_CACHE_KB}"))


def _temp_table(session: Db, name: str, columns: str) -> None:
    if dialect(session).name == "postgresql":
        session.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns}) ON COMMIT DROP"))
    else:
        session.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
        session.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns})"))


def listed_numbers(session: Db, numbers: Iterable[str]) -> ColumnElement[str]:
    """The distinct `numbers` as a column to join on: a COPY-filled temporary table, or SQLite's json_each."""
    distinct = dict.fromkeys(numbers)
    if dialect(session).name == "postgresql":
        _temp_table(session, "listed_numbers", "number VARCHAR(32)")
        copy_rows(session, "listed_numbers", ("number",), ((number,) for number in distinct))
        return table("listed_numbers", column("number", String)).c.number
    # Sorted, SQLite's index probes walk the index in order (twice as fast); a list in file order often is already.
    return func.json_each(json.dumps(sorted(distinct))).table_valued(column("value", String)).c.value


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
    bulk_cache(session)
    listed = listed_numbers(session, numbers)
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
