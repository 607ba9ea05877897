"""The group commit of the webhook's batches: `Intake.record` returns once the transaction holding its message committed.

Messages arriving at once in one process share a transaction (storage/groupcommit.py), which
`batch.record_batch` fills; a batch that meets a deadlock, a concurrent writer or an unprepared
ledger head is tried again, and one still failing is split so that one message cannot fail the others.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from weakref import WeakKeyDictionary, finalize, ref

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from storage import deadline, ledger
from storage.consent.batch import InboundRecord, Recorded, StoredBefore, record_batch
from storage.db import Database
from storage.dbapi import transaction
from storage.groupcommit import GroupCommit

UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)
"""The database cannot take the batch now: every message of it fails alike (the caller spools them).

PoolTimeout covers deadline.DeadlineExceeded: the batch's time (its items' earliest deadline) ran out."""
RETRIES = 3
"""Attempts for a batch that met a deadlock, a concurrent writer or an unprepared ledger head."""



class Intake:
    """The group commit of one database: `record` waits until its message's batch has committed."""

    def __init__(self, database: Database) -> None:
        # Weakly: the registry below holds intakes by their database, which must stay collectable.
        self._database = ref(database)
        self.commits: GroupCommit[InboundRecord, Recorded] = GroupCommit(self._apply)
        self._writer_lock = _WriterLock(database)

    @property
    def database(self) -> Database:
        database = self._database()
        assert database is not None, "the database of a live intake is referenced by its caller"
        return database

    def record(self, item: InboundRecord) -> Recorded:
        """Store `item` with the batch it joins; DeadlineExceeded once the caller's deadline has passed."""
        item.sealed  # noqa: B018 - encrypted and hashed here, in the caller's thread, not under the batch's lock
        return self.commits.submit(item, deadline.current())

    def arriving(self) -> AbstractContextManager[None]:
        """Say a message is on its way to `record` (a batch being started waits a moment for it)."""
        return self.commits.arriving()

    def _apply(self, items: Sequence[InboundRecord]) -> list[Recorded | BaseException]:
        try:
            return list(self._transaction(items))
        except UNREACHABLE as error:
            if not _rolled_back_for_retry(error) or len(items) == 1:
                raise
        except IntegrityError:
            if len(items) == 1:
                raise
        # Still a conflict or a deadlock victim: each message alone, so one cannot fail the others.
        outcomes: list[Recorded | BaseException] = []
        for item in items:
            try:
                outcomes += self._transaction([item])
            except Exception as error:  # noqa: BLE001 - this message's request raises it
                outcomes.append(error)
        return outcomes

    def _transaction(self, items: Sequence[InboundRecord]) -> list[Recorded]:
        """One batch in one transaction, tried again after what a second try resolves."""
        look_first = False
        for attempt in range(1, RETRIES + 1):
            try:
                with self._writer_lock, transaction(self.database) as driver:
                    return record_batch(driver, items, look_first)
            except UNREACHABLE as error:
                if not _rolled_back_for_retry(error) or attempt == RETRIES:
                    raise
            except IntegrityError:
                # A row a writer without the number lock (bulk import) added meanwhile: read it this time.
                if attempt == RETRIES:
                    raise
            except StoredBefore:
                look_first = True
            except ledger.HeadNotReady:
                with self.database.begin() as session:
                    ledger.lock_head(session)
        raise RuntimeError(f"a batch of {len(items)} inbound messages failed {RETRIES} times")


def _rolled_back_for_retry(error: Exception) -> bool:
    """PostgreSQL chose this transaction as a deadlock or serialisation victim (SQLSTATE class 40).

    A pool timeout (no connection at all, no driver error) never is.
    """
    return isinstance(error, DBAPIError) and str(getattr(error.orig, "sqlstate", "") or "").startswith("40")


class _WriterLock:
    """SQLite: the batches of every worker on this machine queue on an flock instead of SQLite's busy wait.

    SQLite's busy handler sleeps 1, 2, 5, 10... ms between tries, so two processes that write
    in turn wait far longer than the other's transaction takes; an flock wakes the next writer as
    soon as the last one is done. Other writers (API, CLI) still meet on SQLite's own lock.
    """

    def __init__(self, database: Database) -> None:
        url = make_url(database.url)
        path = url.database if url.get_backend_name() == "sqlite" else None
        self.path = f"{path}.writer-lock" if path and path != ":memory:" else None
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> None:
        if self.path is None:
            return
        if self._fd is None or self._pid != os.getpid():
            # Our own open file in each process: a forked child must not share its parent's lock.
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            finalize(self, os.close, self._fd)
        # Only one thread per intake writes at a time (the group commit's leader), so one file suffices.
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


_intakes: WeakKeyDictionary[Database, Intake] = WeakKeyDictionary()
_intakes_lock = threading.Lock()


def intake(database: Database) -> Intake:
    """The group commit of `database` in this process."""
    with _intakes_lock:
        found = _intakes.get(database)
        if found is None:
            found = _intakes[database] = Intake(database)
        return found
