"""Statements run straight on the DBAPI connection, for the webhook's hot path (storage/consent/batch.py).

A Core statement costs some 80 microseconds of Python before the driver sees it on this project's
2-core machine, sqlite3 itself 5; at hundreds of messages a second that is most of the budget.
So the hot path writes its few statements as SQL text valid on SQLite and PostgreSQL, with `?`
placeholders, and converts values with the SQLAlchemy column types' own processors (encryption,
UTC datetimes), so what it stores reads back through the models exactly as if the ORM wrote it.
Connections still come from the engine's pool (pre-ping, invalidation), and driver errors come
out as SQLAlchemy's exceptions, so callers tell an unreachable database from a conflict as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError

from storage import deadline
from storage.db import SQLITE_BUSY_TIMEOUT_MS, Database, set_timeouts

Processor = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


class Driver:
    """One transaction on a DBAPI connection: `?`-style SQL in, plain rows out."""

    def __init__(self, connection: Any, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect
        self.postgresql = dialect.name == "postgresql"
        self.cursor = connection.cursor()
        self._deferred: list[tuple[str, Sequence[Any]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run the deferred writes, then one statement; returns the cursor (fetchall() for RETURNING and SELECT)."""
        self.flush()
        return self._run(sql, params)

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A write whose result nobody reads: run with the next statement, or at commit.

        Deferred writes must not depend on one another: on PostgreSQL they become one statement
        (a data-modifying WITH), whose parts all see the database as it was before it.
        """
        self._deferred.append((sql, params))

    def flush(self) -> None:
        """Run the deferred writes: one round trip on PostgreSQL (each costs ~0.1 ms of CPU), in turn on SQLite."""
        deferred, self._deferred = self._deferred, []
        if not self.postgresql or len(deferred) < 2:
            for sql, params in deferred:
                self._run(sql, params)
            return
        *parts, (last, _) = deferred
        combined = "WITH " + ", ".join(f"w{index} AS ({sql})" for index, (sql, _) in enumerate(parts)) + " " + last
        self._run(combined, [value for _, params in deferred for value in params])

    def _run(self, sql: str, params: Sequence[Any]) -> Any:
        self.cursor.execute(_paramstyle(sql) if self.postgresql else sql, params)
        return self.cursor

    def bind(self, column: Column[Any]) -> Processor:
        """The function turning a Python value into what this column stores (e.g. encrypts)."""
        return _processor(self.dialect, column, binding=True)

    def result(self, column: Column[Any]) -> Processor:
        """The function turning a stored value into the Python value the model gives."""
        return _processor(self.dialect, column, binding=False)


@lru_cache(maxsize=256)
def _paramstyle(sql: str) -> str:
    """psycopg's placeholders: every `?` becomes `%s` (the hot path's SQL has no other ? or %)."""
    return sql.replace("?", "%s")


_PROCESSORS: dict[tuple[str, str, str, str, bool], Processor] = {}


def _processor(dialect: Dialect, column: Column[Any], binding: bool) -> Processor:
    # Keyed by names: a Column's == builds SQL, so it must not be a cache key itself.
    key = (dialect.name, dialect.driver, column.table.name, column.key, binding)
    found = _PROCESSORS.get(key)
    if found is None:
        # The dialect's own variant of the type: SQLite's DATETIME stores text, PostgreSQL's is native.
        column_type = column.type.dialect_impl(dialect)
        made = column_type.bind_processor(dialect) if binding else column_type.result_processor(dialect, None)
        found = _PROCESSORS[key] = made or _same
    return found


def insert(driver: Driver, table: Table, rows: Sequence[Mapping[str, Any]], suffix: str = "", defer: bool = False) -> Any:
    """One multi-row INSERT of `rows` (all with the same keys), values converted by the columns' types.

    `defer`: as `Driver.defer`, for an insert whose result is not read.
    """
    names = tuple(rows[0])
    converters = _converters(driver.dialect, table, names)
    params = [
        value if convert is None else convert(value)
        for row in rows for value, convert in zip(map(row.__getitem__, names), converters)
    ]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES {rows_of(len(rows), len(names))}{suffix}"
    if defer:
        return driver.defer(sql, params)
    return driver.execute(sql, params)


_CONVERTERS: dict[tuple[str, str, str, tuple[str, ...]], tuple[Processor | None, ...]] = {}


def _converters(dialect: Dialect, table: Table, names: tuple[str, ...]) -> tuple[Processor | None, ...]:
    """The bind processors of these columns, None where a value goes to the driver as it is."""
    key = (dialect.name, dialect.driver, table.name, names)
    found = _CONVERTERS.get(key)
    if found is None:
        found = _CONVERTERS[key] = tuple(
            None if (convert := _processor(dialect, table.c[name], binding=True)) is _same else convert
            for name in names
        )
    return found


def marks(count: int) -> str:
    """`?, ?, ?` for an IN list or one VALUES row of `count` values."""
    return ", ".join("?" * count)


@lru_cache(maxsize=256)
def rows_of(count: int, width: int) -> str:
    """`(?, ?), (?, ?)` for a multi-row VALUES of `count` rows of `width` values."""
    row = f"({marks(width)})"
    return ", ".join([row] * count)


@contextmanager
def transaction(database: Database) -> Iterator[Driver]:
    """A transaction on a pooled connection: committed on success, rolled back on any error.

    SQLite: BEGIN IMMEDIATE, as every writer there (storage/db.py). A driver error is raised as
    the matching SQLAlchemy exception; a connection the error shows to be dead leaves the pool.
    Within a deadline (storage/deadline.py) the server's statement and lock timeouts, or SQLite's
    busy timeout, are what is left of it; past it DeadlineExceeded is raised before connecting.
    """
    engine = database.engine
    dbapi = engine.dialect.loaded_dbapi
    deadline.check()
    try:
        pooled = engine.raw_connection()
    except dbapi.Error as error:
        # Engine.raw_connection leaves a failed connect unwrapped (Engine.connect would wrap it).
        raise _wrapped(error, engine.dialect, gone=True) from error
    connection = pooled.driver_connection
    assert connection is not None, "a connection just checked out of the pool is attached"
    sqlite = engine.dialect.name == "sqlite"
    busy = None
    try:
        driver = Driver(connection, engine.dialect)
        if sqlite:
            busy = _shorter_busy_timeout(connection, database.lock_timeout)
            connection.execute("BEGIN IMMEDIATE")
        elif (bounds := deadline.server_timeouts(database.lock_timeout)) is not None:
            driver.cursor.execute(set_timeouts(*bounds))
        yield driver
        driver.flush()
        if sqlite:
            connection.execute("COMMIT")
        else:
            connection.commit()
    except dbapi.Error as error:
        gone = engine.dialect.is_disconnect(error, pooled, None)
        _rollback(connection, sqlite, dbapi)
        if gone:
            pooled.invalidate(error)
        raise _wrapped(error, engine.dialect, gone) from error
    except BaseException:
        _rollback(connection, sqlite, dbapi)
        raise
    finally:
        if busy is not None:
            connection.execute(f"PRAGMA busy_timeout = {busy}")
        pooled.close()


def _shorter_busy_timeout(connection: Any, lock_timeout: float | None) -> int | None:
    """SQLite: wait for the write lock no longer than the deadline leaves; returns the timeout to restore."""
    remaining = deadline.left()
    usual = SQLITE_BUSY_TIMEOUT_MS if lock_timeout is None else int(lock_timeout * 1000)
    if remaining is None or remaining * 1000 >= usual:
        return None
    connection.execute(f"PRAGMA busy_timeout = {max(1, int(remaining * 1000))}")
    return usual


def _wrapped(error: Exception, dialect: Dialect, gone: bool) -> StatementError:
    """The SQLAlchemy exception for a driver error (OperationalError, IntegrityError...), parameters hidden."""
    return DBAPIError.instance(None, None, error, dialect.loaded_dbapi.Error, hide_parameters=True,
                               connection_invalidated=gone, dialect=dialect)


def _rollback(connection: Any, sqlite: bool, dbapi: Any) -> None:
    try:
        if sqlite:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        else:
            connection.rollback()
    except dbapi.Error:
        pass  # the connection is gone; the pool drops it
