"""A database that hangs must not outlast Twilio's 15-second webhook timeout.

The gateway runs under gunicorn on a PostgreSQL cluster of the test's own. Signed STOPs stream in
from a few senders at once while the server is frozen (SIGSTOP of the postmaster and every
backend: the kernel still acknowledges TCP, so only the client's own bound can end a wait) or
while another connection holds the ledger head row FOR UPDATE. Every request must be answered, with
the usual reply, within GATEWAY_WEBHOOK_DEADLINE (plus a margin for the spool write and a loaded
machine), /healthz must answer throughout and /readyz within its own bound, and once the database
is back every opt-out must be applied exactly once. The latency bound is a correctness bound (the provider gives up), not a benchmark.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from gateway import create_app, simulator

from gateway.ops import health
from storage import ConsentEvent, Database, InboundRow, Suppression, deadline
from storage.groupcommit import GroupCommit
from tests.conftest import KEYWORDS_FILE, LEDGER_KEY, NUMBER_HASH_KEY
from tests.ops.servers import Gunicorn, PrivateCluster, wait_until

TOKEN = "ops-twilio-token"
SENDER = "+18005550199"
PATH = "/webhooks/twilio/sms"
DEADLINE = 2.5
"""GATEWAY_WEBHOOK_DEADLINE of the server under test (the default is 8; shorter here to keep the suite short)."""
LOCK_TIMEOUT = 2.0
"""GATEWAY_DB_LOCK_TIMEOUT: close to the deadline, so two batches that each waited it in turn overrun it."""
MARGIN = 2.0
"""What an answer may take beyond the deadline: the spool write and a busy two-core machine."""
HANG = 3 * DEADLINE
"""Seconds the database hangs: three deadlines, so batches queue behind stuck ones."""
SENDERS = 4
"""Concurrent senders: fewer than the server's threads (2 workers x 4), so /healthz finds a free one."""
PAUSE = 0.15
"""Each sender's pause between messages."""


@dataclass(frozen=True)
class Answer:
    number: str
    status: int
    body: str
    seconds: float


def number(sender: int, index: int) -> str:
    return f"+1415{sender:03d}{index:04d}"


def timed(send: Callable[[], tuple[int, str]]) -> tuple[int, str, float]:
    started = time.monotonic()
    try:
        status, body = send()
    except OSError as error:  # the provider's own 15-second timeout
        status, body = 0, f"{type(error).__name__}: {error}"
    return status, body, time.monotonic() - started


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def healthz(base: str) -> tuple[int, str]:
    return get(base + "/healthz")


class Stream:
    """SENDERS threads posting signed STOPs (to gunicorn at `base`, or with `post`), each from a new number."""

    def __init__(self, base: str, post: Callable[[dict[str, str]], tuple[int, str]] | None = None) -> None:
        self.base = base
        self.post = post or (lambda form: simulator.post(self.base + PATH, form, TOKEN, timeout=15))
        self.answers: list[Answer] = []
        self.probes: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._send, args=(sender,)) for sender in range(SENDERS)]

    def _send(self, sender: int) -> None:
        index = 0
        while not self._stop.is_set():
            form = simulator.inbound_form("STOP", number(sender, index), SENDER)
            status, body, seconds = timed(lambda: self.post(form))
            with self._lock:
                self.answers.append(Answer(form["From"], status, body, seconds))
            index += 1
            self._stop.wait(PAUSE)

    def probe_health(self, seconds: float, probe: Callable[[], tuple[int, str]] | None = None) -> None:
        """Ask /healthz about once a second for `seconds`, timing each answer."""
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            status, _, took = timed(probe or (lambda: healthz(self.base)))
            self.probes.append((status, took))
            time.sleep(max(0.0, min(1.0, until - time.monotonic())))

    @contextmanager
    def running(self) -> Iterator[Stream]:
        for thread in self._threads:
            thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            for thread in self._threads:
                thread.join(30)


def cluster_pids(cluster: PrivateCluster) -> list[int]:
    """The postmaster of the cluster and every process it forked (backends, checkpointer...)."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    return [postmaster, *map(int, children)]


@contextmanager
def frozen(cluster: PrivateCluster) -> Iterator[None]:
    """SIGSTOP every process of the cluster (the postmaster first: it forks no new backend), SIGCONT after."""
    pids = cluster_pids(cluster)
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        yield
    finally:
        for pid in reversed(pids):
            os.kill(pid, signal.SIGCONT)


@contextmanager
def head_locked(url: str) -> Iterator[None]:
    """Another connection holds the ledger head row FOR UPDATE, as a long import does, then lets go."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT last_id FROM ledger_head FOR UPDATE")).all()
            yield
            connection.rollback()
    finally:
        engine.dispose()


def check_stream(stream: Stream, reply: str) -> None:
    """Every delivery answered 200 with the usual reply within the deadline; /healthz answered throughout."""
    late = [a for a in stream.answers if a.status != 200 or a.body != reply or a.seconds > DEADLINE + MARGIN]
    worst = max(a.seconds for a in stream.answers)
    assert not late, f"{len(late)} of {len(stream.answers)} answers late or wrong (worst {worst:.1f}s): {late[:3]}"
    assert stream.probes and all(status == 200 and took < DEADLINE + MARGIN for status, took in stream.probes), (
        stream.probes
    )


def check_applied_once(database: Database, numbers: set[str]) -> None:
    """Once the spool has drained: one message, one opt-out event and one suppression per number."""

    def counts() -> tuple[int, int, int, int]:
        with database.begin() as session:
            return (
                int(session.scalar(select(func.count()).select_from(InboundRow)) or 0),
                int(session.scalar(select(func.count()).select_from(ConsentEvent)) or 0),
                int(session.scalar(select(func.count(func.distinct(ConsentEvent.number)))) or 0),
                int(session.scalar(select(func.count()).select_from(Suppression)) or 0),
            )

    expected, seen = (len(numbers),) * 4, [(0, 0, 0, 0)]

    def drained() -> bool:
        seen.append(counts())
        return seen[-1] == expected

    try:
        wait_until(drained, 60, "the spool to drain")
    finally:
        assert seen[-1] == expected, f"(messages, events, numbers, suppressions) {seen[-1]}, not {expected}"
    with database.begin() as session:
        stored = set(session.scalars(select(Suppression.number)))
    assert stored == numbers


def run_hang(
    pg_database: str, tmp_path: Path, hang: Callable[[], AbstractContextManager[None]], ready: int
) -> None:
    """The stream through `hang`; /readyz, asked in the middle of it, answers `ready` in time."""
    server = Gunicorn(
        tmp_path, pg_database, TOKEN, workers=2, REPEAT_REPLY_INTERVAL="0",
        WEBHOOK_DEADLINE=str(DEADLINE), DB_LOCK_TIMEOUT=str(LOCK_TIMEOUT), DB_CONNECT_TIMEOUT="2",
    )
    server.start()
    database = Database(pg_database)
    try:
        first = simulator.inbound_form("STOP", "+14159990000", SENDER)
        status, reply = simulator.post(server.base + PATH, first, TOKEN)
        assert status == 200 and "<Message>" in reply
        stream = Stream(server.base)
        with stream.running():
            time.sleep(1.5)
            with hang():
                stream.probe_health(HANG / 2)
                readiness = timed(lambda: get(server.base + "/readyz"))
                stream.probe_health(HANG / 2)
            time.sleep(1.5)
        check_stream(stream, reply)
        assert readiness[0] == ready and readiness[2] < health.READY_DEADLINE + MARGIN, readiness
        check_applied_once(database, {first["From"], *(a.number for a in stream.answers)})
    finally:
        server.stop()
        database.dispose()


def test_a_frozen_postgresql_is_answered_from_the_spool_within_the_deadline(
    private_pg: PrivateCluster, pg_database: str, tmp_path: Path
) -> None:
    run_hang(pg_database, tmp_path, lambda: frozen(private_pg), ready=503)


def test_a_ledger_head_held_for_long_is_answered_from_the_spool_within_the_deadline(
    private_pg: PrivateCluster, pg_database: str, tmp_path: Path
) -> None:
    # Nothing else is stuck: the database is ready, only the ledger head waits.
    run_hang(pg_database, tmp_path, lambda: head_locked(pg_database), ready=200)


@contextmanager
def sqlite_write_locked(url: str) -> Iterator[None]:
    """Another connection holds SQLite's one write lock (BEGIN IMMEDIATE), as a long import does."""
    path = make_url(url).database
    assert path
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_held_for_long_is_answered_from_the_spool_within_the_deadline(
    database_url: str, tmp_path: Path
) -> None:
    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": TOKEN,
        "API_TOKENS": ("ops-api-token-for-hangs",),
        "KEYWORDS_FILE": str(KEYWORDS_FILE), "PUBLIC_BASE_URL": None, "SPOOL_PATH": str(tmp_path / "spool.db"),
        "LEDGER_KEYS": LEDGER_KEY, "NUMBER_HASH_KEY": NUMBER_HASH_KEY, "REPEAT_REPLY_INTERVAL": 0,
        "WEBHOOK_DEADLINE": DEADLINE, "DB_LOCK_TIMEOUT": LOCK_TIMEOUT,
    })
    database, spool = app.extensions["gateway.database"], app.extensions["gateway.spool"]

    def post(form: dict[str, str]) -> tuple[int, str]:
        signature = simulator.sign("http://localhost" + PATH, form, TOKEN)
        response = app.test_client().post(PATH, data=form, headers={"X-Twilio-Signature": signature})
        return response.status_code, response.get_data(as_text=True)

    stream = Stream("", post)
    try:
        first = simulator.inbound_form("STOP", "+14159990000", SENDER)
        status, reply = post(first)
        assert status == 200 and "<Message>" in reply
        with stream.running():
            with sqlite_write_locked(database_url):
                stream.probe_health(2 * DEADLINE + 1, lambda: (app.test_client().get("/healthz").status_code, ""))
            time.sleep(1.0)
        check_stream(stream, reply)
        check_applied_once(database, {first["From"], *(a.number for a in stream.answers)})
    finally:
        spool.close()
        database.dispose()


def test_items_queued_behind_a_stuck_batch_share_their_deadline() -> None:
    """A waiter leaves (DeadlineExceeded) while the batch ahead is stuck; a batch runs within its items' deadline."""
    stuck, release = threading.Event(), threading.Event()
    bounds: list[float | None] = []

    def apply(items: Sequence[str]) -> list[str]:
        bounds.append(deadline.current())
        if items[0] == "first":
            stuck.set()
            release.wait(30)
        return [item.upper() for item in items]

    commits: GroupCommit[str, str] = GroupCommit(apply)
    first_deadline = time.monotonic() + 60
    leader = threading.Thread(target=lambda: commits.submit("first", first_deadline))
    leader.start()
    try:
        assert stuck.wait(10)
        for item in ("second", "third"):
            with pytest.raises(deadline.DeadlineExceeded):
                commits.submit(item, time.monotonic() + 0.2)
        assert not release.is_set(), "the waiters stayed until the stuck batch ended"
    finally:
        release.set()
        leader.join(10)
    assert bounds == [first_deadline]
    # A later item is not held up by the two that gave up, and runs within its own deadline.
    with deadline.within(5.0) as mine:
        assert commits.submit("fourth", mine) == "FOURTH"
    assert bounds[-1] == mine
