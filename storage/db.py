"""Engine and session set-up for SQLite (embedded) and PostgreSQL (several machines)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

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


def make_engine(url: str, lock_timeout: float | None = None, **kwargs: Any) -> Engine:
    """An engine for the URL, tuned for its backend.

    `lock_timeout` (seconds) bounds how long a statement waits for a lock another transaction holds
    (a bulk import, say): it then fails with OperationalError, which the webhook answers by spooling.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            private_file(parsed.database)
        engine = create_engine(url, **kwargs)
        _tune_sqlite(engine, SQLITE_BUSY_TIMEOUT_MS if lock_timeout is None else int(lock_timeout * 1000))
        return engine
    if lock_timeout is not None and parsed.get_backend_name() == "postgresql":
        connect_args = kwargs.setdefault("connect_args", {})
        options = connect_args.get("options", "")
        connect_args["options"] = f"{options} -c lock_timeout={int(lock_timeout * 1000)}".strip()
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


class Database:
    """One engine and its session factory; `begin()` is the unit of work of one request."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
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
