"""One deadline for the database work of a request, and the watchdog that enforces it on a silent server.

A webhook must be answered within the provider's timeout (Twilio: 15 s) even when the database
hangs. `within(seconds)` opens a deadline for everything the thread does on the database until the
block ends; nested blocks keep the earliest. Each part of the way reads what is left of it:
waiting for a group-commit batch (storage/groupcommit.py), connecting (connect_timeout), the
server's own statement_timeout and lock_timeout (set per transaction, `server_timeouts`), and
last the watchdog: a server that is frozen (SIGSTOP, a stalled VM) answers nothing, not even a
statement timeout, and its kernel still acknowledges TCP, so neither keepalives nor
tcp_user_timeout notice. At the deadline the watchdog shuts down the socket of the connection the
thread is using (attached by the pool's checkout, detached at checkin, storage/db.py): the blocked
call fails at once as a lost connection, and the pool discards that connection instead of reusing it.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

SERVER_RESERVE = 0.25
"""Seconds before the deadline at which the server's own statement timeout fires: its error beats the watchdog."""
WATCH_INTERVAL = 0.05
"""How often the watchdog looks at the open deadlines while there are any."""


class DeadlineExceeded(PoolTimeout):
    """The request's time for the database ran out: like a pool timeout, the database cannot take it now."""


class _Guard:
    """One open deadline and the connections its thread has checked out."""

    __slots__ = ("at", "connections")

    def __init__(self, at: float) -> None:
        self.at = at
        self.connections: list[Any] = []


_guard: ContextVar[_Guard | None] = ContextVar("storage_deadline", default=None)


def current() -> float | None:
    """The time.monotonic() by which this thread's database work must end, or None for no bound."""
    guard = _guard.get()
    return None if guard is None else guard.at


def remaining(at: float | None) -> float | None:
    """Seconds left before the monotonic time `at`, 0 once passed, None for no bound."""
    return None if at is None else max(0.0, at - time.monotonic())


def left() -> float | None:
    """Seconds left of the current deadline, 0 once passed, None for no bound."""
    return remaining(current())


def check() -> None:
    """Raise DeadlineExceeded if the current deadline has passed."""
    if left() == 0.0:
        raise DeadlineExceeded("the request's deadline for the database has passed")


@contextmanager
def within(seconds: float | None = None, at: float | None = None) -> Iterator[float | None]:
    """A deadline `seconds` from now (or at monotonic time `at`) for this thread's database work.

    An enclosing deadline that ends earlier stays in force; with neither argument nothing changes.
    Yields the deadline in force.
    """
    ends = [t for t in (at, None if seconds is None else time.monotonic() + seconds, current()) if t is not None]
    if not ends or min(ends) == current():
        yield current()
        return
    guard = _Guard(min(ends))
    token = _guard.set(guard)
    _watchdog.add(guard)
    try:
        yield guard.at
    finally:
        _watchdog.remove(guard)
        _guard.reset(token)


def attach(connection: Any) -> None:
    """The pool checked `connection` (a DBAPI connection) out to this thread: the watchdog may cut it."""
    guard = _guard.get()
    if guard is not None:
        with _watchdog.lock:
            guard.connections.append(connection)


def detach(connection: Any) -> None:
    """`connection` goes back to the pool: from now on it may be another thread's, never to be cut.

    None (the pool's checkin of a connection it invalidated): forget those that are closed.
    """
    guard = _guard.get()
    if guard is not None:
        with _watchdog.lock:
            guard.connections = [c for c in guard.connections if c is not connection and not _closed(c)]


def _closed(connection: Any) -> bool:
    return bool(getattr(connection, "closed", False))


def connect_timeout(configured: float) -> int:
    """Seconds a new connection may take: what is left of the deadline, at most `configured`.

    libpq counts whole seconds, at least 2; with under one second left no connection is tried.
    """
    remaining = left()
    if remaining is None:
        return max(1, math.ceil(configured))
    if remaining < 1.0:
        raise DeadlineExceeded("too little of the request's deadline is left to connect")
    return max(1, int(min(configured, remaining)))


def server_timeouts(lock_timeout: float | None) -> tuple[int, int] | None:
    """(statement_timeout, lock_timeout) in milliseconds for a transaction begun now, None without a deadline.

    Raises DeadlineExceeded when too little is left to start one.
    """
    remaining = left()
    if remaining is None:
        return None
    statement = int((remaining - SERVER_RESERVE) * 1000)
    if statement < 1:
        raise DeadlineExceeded("too little of the request's deadline is left for a transaction")
    lock = statement if lock_timeout is None else min(statement, max(1, int(lock_timeout * 1000)))
    return statement, lock


class _Watchdog:
    """One thread per process that cuts the connection of every guard past its deadline."""

    def __init__(self) -> None:
        self._pid = 0
        self.reset()

    def reset(self) -> None:
        """Fresh state: after a fork the child has none of its parent's threads, and maybe a held lock."""
        self.lock = threading.Lock()
        self._guards: set[_Guard] = set()
        self._wake = threading.Condition(self.lock)
        self._pid = 0

    def add(self, guard: _Guard) -> None:
        with self.lock:
            self._guards.add(guard)
            if self._pid != os.getpid():
                # First use in this process (a gunicorn worker forked after import): start our own thread.
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="db-deadline-watchdog", daemon=True).start()
            if len(self._guards) == 1:
                self._wake.notify()

    def remove(self, guard: _Guard) -> None:
        with self.lock:
            self._guards.discard(guard)

    def _run(self) -> None:
        with self.lock:
            while True:
                if not self._guards:
                    self._wake.wait()
                now = time.monotonic()
                for guard in self._guards:
                    if guard.at <= now and guard.connections:
                        # Each is cut once; one checked out later still (a reconnect) is cut in turn.
                        for connection in guard.connections:
                            _cut(connection)
                        guard.connections = []
                self._wake.wait(WATCH_INTERVAL)


def _cut(connection: Any) -> None:
    """Shut down the connection's socket: the thread blocked on it gets a lost-connection error now."""
    try:
        fd = connection.pgconn.socket  # psycopg 3; other drivers have no socket to cut
    except Exception:  # noqa: BLE001 - closed already, or not psycopg: nothing is blocked on it
        return
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        return
    log.warning("database did not answer within the request's deadline: connection cut")


_watchdog = _Watchdog()
os.register_at_fork(after_in_child=_watchdog.reset)
