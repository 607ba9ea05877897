"""Engine and session set-up for SQLite (embedded) and PostgreSQL (several machines)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from storage import deadline

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for the write lock unless the engine is given `lock_timeout`."""
READ_ONLY = "gateway_read_only"
"""The execution option `Database.read` sets on its connections."""


def enable_wal(connection: Any, timeout: float) -> None:
    """Switch a SQLite connection's file to WAL, retrying while another connection holds it.

    Workers that boot together and open a file still in rollback mode all ask for the switch; SQLite
    answers some of them "database is locked" at once, without waiting out the busy timeout (seen
    with a new spool file: the worker failed to boot and gunicorn stopped).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def private_file(path: str | os.PathLike[str]) -> None:
    """Create a SQLite file readable by this user only (0600), and make an existing one, WAL and SHM so.

    SQLite gives the -wal and -shm files it creates later the mode of the database file; numbers
    and message bodies pass through all three.
    """
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return  # SQLite says so when it connects, as before
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
    for name in (os.fspath(path), f"{os.fspath(path)}-wal", f"{os.fspath(path)}-shm"):
        try:
            if os.stat(name).st_uid == os.geteuid():  # someone else's file is theirs to set
                os.chmod(name, 0o600)
        except FileNotFoundError:
            pass


def _tune_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, a busy timeout and BEGIN IMMEDIATE, so concurrent workers queue instead of failing."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        enable_wal(cursor, busy_timeout_ms / 1000)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Deleted and overwritten rows are zeroed in the file: an erased number leaves no bytes behind.
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write lock up front: a deferred transaction that later writes can fail with SQLITE_BUSY.
        # A read-only one (`Database.read`) never writes, so it takes no lock and waits for no writer.
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def _bound_by_deadlines(engine: Engine, lock_timeout: float | None, ping: bool) -> None:
    """PostgreSQL under a request's deadline (storage/deadline.py): connect, ping and statements all end by it.

    The watchdog may cut the connection a thread has checked out, so the pre-ping runs here, after
    the checkout has attached the connection, instead of in SQLAlchemy's pre-ping (which runs before
    any checkout event): a ping to a frozen server is cut like any statement, and the pool then
    connects anew, or gives up if too little time is left.
    """

    @event.listens_for(engine, "do_connect")
    def _on_connect(_dialect: Dialect, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        if deadline.current() is not None:
            cparams["connect_timeout"] = deadline.connect_timeout(float(cparams.get("connect_timeout") or 30))

    @event.listens_for(engine.pool, "connect")
    def _on_new(_connection: Any, record: Any) -> None:
        record.info[_UNPINGED] = True

    @event.listens_for(engine.pool, "checkout")
    def _on_checkout(connection: Any, record: Any, _proxy: Any) -> None:
        deadline.attach(connection)
        if ping and not record.info.pop(_UNPINGED, False):
            try:
                engine.dialect.do_ping(connection)
            except engine.dialect.loaded_dbapi.Error as error:
                deadline.detach(connection)
                if engine.dialect.is_disconnect(error, connection, None):
                    raise DisconnectionError("pre-ping found the connection gone") from error
                raise

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(connection: Any, _record: Any) -> None:
        deadline.detach(connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        bounds = deadline.server_timeouts(lock_timeout)
        if bounds is not None:
            connection.exec_driver_sql(set_timeouts(*bounds))


_UNPINGED = "gateway_unpinged"
"""Pool record info: a connection made for this checkout, which SQLAlchemy's pre-ping would not ping either."""


def set_timeouts(statement_ms: int, lock_ms: int) -> str:
    """SQL setting PostgreSQL's statement and lock timeouts for the rest of the transaction (SET LOCAL)."""
    return (f"SELECT set_config('statement_timeout', '{int(statement_ms)}', true),"
            f" set_config('lock_timeout', '{int(lock_ms)}', true)")


def make_engine(url: str, lock_timeout: float | None = None, **kwargs: Any) -> Engine:
    """An engine for the URL, tuned for its backend.

    `lock_timeout` (seconds) bounds how long a statement waits for a lock another transaction holds
    (a bulk import, say): it then fails with OperationalError, which the webhook answers by spooling.
    On PostgreSQL (psycopg), work done within a deadline (storage/deadline.py) is bounded by it as well.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            private_file(parsed.database)
        else:
            # An in-memory database lives in one connection (SingletonThreadPool): no pool to wait for.
            kwargs.pop("pool_timeout", None)
        engine = create_engine(url, **kwargs)
        _tune_sqlite(engine, SQLITE_BUSY_TIMEOUT_MS if lock_timeout is None else int(lock_timeout * 1000))
        return engine
    postgresql = parsed.get_backend_name() == "postgresql"
    if lock_timeout is not None and postgresql:
        connect_args = kwargs.setdefault("connect_args", {})
        options = connect_args.get("options", "")
        connect_args["options"] = f"{options} -c lock_timeout={int(lock_timeout * 1000)}".strip()
    ping = kwargs.pop("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    if not postgresql or parsed.get_driver_name() != "psycopg":
        return create_engine(url, pool_pre_ping=ping, **kwargs)
    engine = create_engine(url, **kwargs)
    _bound_by_deadlines(engine, lock_timeout, ping)
    return engine


class Database:
    """One engine and its session factory; `begin()` is the unit of work of one request."""

    def __init__(self, url: str, deadline: float | None = None, lock_timeout: float | None = None,
                 **engine_kwargs: Any) -> None:
        self.url = url
        self.deadline = deadline
        """Seconds one request may spend on this database (storage/deadline.py), None for no bound."""
        self.lock_timeout = lock_timeout
        self.engine = make_engine(url, lock_timeout=lock_timeout, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A Core connection inside one transaction that only reads (on SQLite a deferred BEGIN: no write lock)."""
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as connection, connection.begin():
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
