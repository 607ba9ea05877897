"""The local durable spool: inbound messages kept on this machine while the database is unreachable.

One SQLite file per machine, shared by every worker on it. A message is written with
`synchronous=FULL` (fsync before the commit returns) before the provider gets its answer, and is
replayed into the database in spool order once the database is back. Replay is exactly once
because the database refuses a provider message id twice; a row is marked done right after its
replay commits, and a replay that crashed in between finds the message already stored.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from storage.db import enable_wal

BUSY_TIMEOUT_MS = 30_000

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS spooled_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    message_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    spooled_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS ix_spooled_pending ON spooled_messages (id) WHERE done_at IS NULL",
)


@dataclass(frozen=True)
class SpooledMessage:
    """One spooled inbound message: the decoded message, the decision taken and the reply given."""

    provider: str
    message_id: str
    payload: dict[str, Any]
    id: int | None = None
    attempts: int = 0
    spooled_at: str = ""


@dataclass(frozen=True)
class SpoolStatus:
    """How many messages wait for the database, and since when."""

    path: str
    pending: int
    done: int
    oldest_pending: str | None
    last_error: str | None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class Spool:
    """The spool file: append, list pending in order, mark done; one connection per thread."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._write() as connection:
            for statement in SCHEMA:
                connection.execute(statement)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            # A forked worker must not share its parent's SQLite handle.
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            enable_wal(connection, BUSY_TIMEOUT_MS / 1000)
            # FULL: the commit is on disk before the provider is told the message was received.
            connection.execute("PRAGMA synchronous = FULL")
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def append(self, message: SpooledMessage) -> int:
        """Write one message durably; returns its spool id (the replay order)."""
        with self._write() as connection:
            cursor = connection.execute(
                "INSERT INTO spooled_messages (provider, message_id, payload, spooled_at) VALUES (?, ?, ?, ?)",
                (message.provider, message.message_id, json.dumps(message.payload, ensure_ascii=False), _now()),
            )
            return int(cursor.lastrowid or 0)

    def has_pending(self) -> bool:
        """Whether any message still waits for the database (cheap: one indexed lookup)."""
        row = self._connection().execute("SELECT 1 FROM spooled_messages WHERE done_at IS NULL LIMIT 1").fetchone()
        return row is not None

    def pending(self, limit: int = 100) -> list[SpooledMessage]:
        """The oldest messages not replayed yet, in spool order."""
        rows = self._connection().execute(
            "SELECT id, provider, message_id, payload, attempts, spooled_at FROM spooled_messages"
            " WHERE done_at IS NULL ORDER BY id LIMIT ?",
            (limit,),
        )
        return [
            SpooledMessage(provider, message_id, json.loads(payload), id=row_id, attempts=attempts, spooled_at=at)
            for row_id, provider, message_id, payload, attempts, at in rows
        ]

    def mark_done(self, spool_id: int) -> None:
        """Record that a message is in the database; it is never replayed again."""
        with self._write() as connection:
            connection.execute(
                "UPDATE spooled_messages SET done_at = ?, attempts = attempts + 1, last_error = NULL"
                " WHERE id = ? AND done_at IS NULL",
                (_now(), spool_id),
            )

    def mark_failed(self, spool_id: int, error: str) -> None:
        """Count a failed replay attempt and keep its reason for `spool status`."""
        with self._write() as connection:
            connection.execute(
                "UPDATE spooled_messages SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error[:500], spool_id),
            )

    def depth(self) -> int:
        """How many messages wait for the database."""
        row = self._connection().execute("SELECT count(*) FROM spooled_messages WHERE done_at IS NULL").fetchone()
        return int(row[0])

    def status(self) -> SpoolStatus:
        """Pending and done counts, the oldest pending message's time and the last replay error."""
        connection = self._connection()
        pending, oldest = connection.execute(
            "SELECT count(*), min(spooled_at) FROM spooled_messages WHERE done_at IS NULL"
        ).fetchone()
        done = connection.execute("SELECT count(*) FROM spooled_messages WHERE done_at IS NOT NULL").fetchone()[0]
        error = connection.execute(
            "SELECT last_error FROM spooled_messages WHERE done_at IS NULL AND last_error IS NOT NULL"
            " ORDER BY id LIMIT 1"
        ).fetchone()
        return SpoolStatus(str(self.path), int(pending), int(done), oldest, error[0] if error else None)

    def purge_done(self, older_than: str) -> int:
        """Delete replayed rows spooled before an ISO time (they are in the database by then)."""
        with self._write() as connection:
            cursor = connection.execute(
                "DELETE FROM spooled_messages WHERE done_at IS NOT NULL AND spooled_at < ?", (older_than,)
            )
            return cursor.rowcount

    @contextmanager
    def replay_lock(self) -> Iterator[bool]:
        """One replayer per machine at a time (an flock next to the file); yields False when taken."""
        with open(self.path.with_suffix(self.path.suffix + ".lock"), "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close this thread's connection."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
