"""The local durable spool: inbound messages kept on this machine while the database is unreachable.

One SQLite file per machine, shared by every worker on it. A message is written with
`synchronous=FULL` (fsync before the commit returns) before the provider gets its answer, and is
replayed into the database in spool order once the database is back. Replay is exactly once
because the database refuses a provider message id twice; a row is deleted right after its
replay commits, and a replay that crashed in between finds the message already stored.

What it holds is personal (the number and the words), on a disk that may be copied: the payload
is encrypted with the ledger keys (storage/crypto.py), the sender is findable only by its keyed
hash (`subject`, as in the ledger), the file and its WAL and SHM are 0600, deleted rows are zeroed
(`secure_delete`), and an erasure deletes the number's rows (`forget`).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.fernet import InvalidToken

from storage import crypto
from storage.db import enable_wal, private_file

BUSY_TIMEOUT_MS = 30_000

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS spooled_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    message_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    subject TEXT,
    spooled_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    opt_out_scopes TEXT
    )""",
)
UNREADABLE = "the spooled message does not decrypt with any of LEDGER_KEYS"


@dataclass(frozen=True)
class SpooledInbound:
    """One spooled inbound message: the decoded message, the decision taken and the reply given.

    `sender` is the address it came from: only its keyed hash is stored beside the encrypted payload.
    `error` is set on a row read back that cannot be decrypted (its key was dropped).
    """

    provider: str
    message_id: str
    payload: dict[str, Any]
    sender: str = ""
    opt_out_scopes: tuple[str, ...] | None = None
    """The sender scopes the message opts out of (`*`: every sender), if it is an opt-out: kept in the
    clear beside the sender's keyed hash, so the pre-send check finds it without decrypting anything."""
    id: int | None = None
    attempts: int = 0
    spooled_at: str = ""
    error: str | None = None


@dataclass(frozen=True)
class SpoolStatus:
    """How many messages wait for the database, and since when."""

    path: str
    pending: int
    oldest_pending: str | None
    last_error: str | None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _upgrade(connection: sqlite3.Connection) -> None:
    """Bring a spool file of an earlier release up to date: keyed sender hash, no replayed rows, no plaintext."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(spooled_messages)")}
    if "subject" not in columns:
        connection.execute("ALTER TABLE spooled_messages ADD COLUMN subject TEXT")
    if "opt_out_scopes" not in columns:
        # Rows spooled before: their opt-outs are found once replayed, as before.
        connection.execute("ALTER TABLE spooled_messages ADD COLUMN opt_out_scopes TEXT")
    connection.execute("CREATE INDEX IF NOT EXISTS ix_spooled_subject ON spooled_messages (subject)")
    if "done_at" in columns:
        # Replayed rows used to be kept, marked done: they are in the database, so they go.
        connection.execute("DELETE FROM spooled_messages WHERE done_at IS NOT NULL")
    plain = connection.execute(
        "SELECT id, payload FROM spooled_messages WHERE payload NOT LIKE ?", (crypto.FERNET_PREFIX + "%",)
    ).fetchall()
    for row_id, payload in plain:
        keyring = crypto.current()
        sender = str(json.loads(payload)["from"][0])
        connection.execute("UPDATE spooled_messages SET payload = ?, subject = ? WHERE id = ?",
                            (keyring.encrypt(payload), keyring.digest(sender), row_id))


class Spool:
    """The spool file: append, list pending in order, delete replayed; one connection per thread."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        private_file(self.path)
        self._local = threading.local()
        with self._write() as connection:
            for statement in SCHEMA:
                connection.execute(statement)
            _upgrade(connection)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            # A forked worker must not share its parent's SQLite handle.
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            enable_wal(connection, BUSY_TIMEOUT_MS / 1000)
            # FULL: the commit is on disk before the provider is told the message was received.
            connection.execute("PRAGMA synchronous = FULL")
            # A replayed or erased row is overwritten with zeros, not just unlinked from the b-tree.
            connection.execute("PRAGMA secure_delete = ON")
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

    def append(self, message: SpooledInbound) -> int:
        """Write one message durably, encrypted; returns its spool id (the replay order)."""
        keyring = crypto.current()
        # Encrypted and hashed before the write lock, which every worker of the machine shares.
        payload = keyring.encrypt(json.dumps(message.payload, ensure_ascii=False))
        subject = keyring.digest(message.sender) if message.sender else None
        scopes = json.dumps(list(message.opt_out_scopes)) if message.opt_out_scopes else None
        with self._write() as connection:
            cursor = connection.execute(
                "INSERT INTO spooled_messages (provider, message_id, payload, subject, spooled_at, opt_out_scopes)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (message.provider, message.message_id, payload, subject, _now(), scopes),
            )
            return int(cursor.lastrowid or 0)

    def has_pending(self) -> bool:
        """Whether any message still waits for the database (cheap: one primary-key lookup)."""
        return self._connection().execute("SELECT 1 FROM spooled_messages LIMIT 1").fetchone() is not None

    def pending(self, limit: int = 100) -> list[SpooledInbound]:
        """The oldest messages not replayed yet, in spool order, decrypted."""
        rows = self._connection().execute(
            "SELECT id, provider, message_id, payload, attempts, spooled_at FROM spooled_messages ORDER BY id LIMIT ?",
            (limit,),
        ).fetchall()
        keyring = crypto.current()
        entries = []
        for row_id, provider, message_id, payload, attempts, at in rows:
            try:
                entries.append(SpooledInbound(provider, message_id, json.loads(keyring.decrypt(payload)), id=row_id,
                                              attempts=attempts, spooled_at=at))
            except InvalidToken:
                # Kept, not dropped: restoring the key that made it lets it be replayed.
                entries.append(SpooledInbound(provider, message_id, {}, id=row_id, attempts=attempts, spooled_at=at,
                                              error=UNREADABLE))
        return entries

    def remove(self, spool_id: int) -> None:
        """Delete a message that is in the database now: it is never replayed again."""
        with self._write() as connection:
            connection.execute("DELETE FROM spooled_messages WHERE id = ?", (spool_id,))

    def mark_failed(self, spool_id: int, error: str) -> None:
        """Count a failed replay attempt and keep its reason (no message text) for `spool status`."""
        with self._write() as connection:
            connection.execute(
                "UPDATE spooled_messages SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error[:500], spool_id),
            )

    def opted_out(self, subjects: Collection[str]) -> dict[str, set[str]]:
        """The scopes that waiting opt-outs from these senders (keyed hashes) cover, by sender hash."""
        found: dict[str, set[str]] = {}
        query = "SELECT subject, opt_out_scopes FROM spooled_messages WHERE opt_out_scopes IS NOT NULL"
        for subject, scopes in self._connection().execute(query).fetchall():
            if subject in subjects:
                found.setdefault(subject, set()).update(json.loads(scopes))
        return found

    def forget(self, number: str) -> int:
        """Delete every message from `number` (an erasure): found by its keyed hash, never decrypted."""
        with self._write() as connection:
            cursor = connection.execute("DELETE FROM spooled_messages WHERE subject = ?", (crypto.current().digest(number),))
            return cursor.rowcount

    def checkpoint(self) -> None:
        """Copy the WAL into the file and truncate it, so deleted rows' old pages leave the -wal file too."""
        self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def depth(self) -> int:
        """How many messages wait for the database."""
        row = self._connection().execute("SELECT count(*) FROM spooled_messages").fetchone()
        return int(row[0])

    def status(self) -> SpoolStatus:
        """The pending count, the oldest pending message's time and the first replay error."""
        connection = self._connection()
        pending, oldest = connection.execute("SELECT count(*), min(spooled_at) FROM spooled_messages").fetchone()
        error = connection.execute(
            "SELECT last_error FROM spooled_messages WHERE last_error IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
        return SpoolStatus(str(self.path), int(pending), oldest, error[0] if error else None)

    @contextmanager
    def replay_lock(self) -> Iterator[bool]:
        """One replayer per machine at a time (an flock next to the file); yields False when taken."""
        handle = os.open(self.path.with_suffix(self.path.suffix + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            os.close(handle)

    def close(self) -> None:
        """Close this thread's connection."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
