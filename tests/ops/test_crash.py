"""Crash safety: a worker killed in the middle of a STOP leaves nothing half-applied; the retry completes it."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from gateway import simulator
from storage import ConsentEvent, Database, InboundRow, Subject, Suppression, crypto
from tests.ops.servers import Gunicorn, PrivateCluster, wait_until

TOKEN = "ops-twilio-token"
NUMBER = "+14155550177"
SENDER = "+18005550199"
PATH = "/webhooks/twilio/sms"

BLOCKED_MID_TRANSACTION = text(
    """
    SELECT a.pid FROM pg_stat_activity a
    WHERE a.wait_event_type = 'Lock' AND a.query ILIKE '%suppressions%'
      AND EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                  WHERE l.pid = a.pid AND c.relname = 'inbound_messages' AND l.mode = 'RowExclusiveLock')
    """
)
"""A gateway backend that has written its inbound message and now waits for the suppression list."""


def counts(database: Database) -> dict[str, int]:
    with database.begin() as session:
        return {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (InboundRow, ConsentEvent, Suppression)
        }


def test_worker_killed_mid_transaction_leaves_nothing_and_the_retry_completes(
    private_pg: PrivateCluster, pg_database: str, tmp_path: Path
) -> None:
    server = Gunicorn(tmp_path, pg_database, TOKEN, workers=1)
    server.start()
    database = Database(pg_database)
    blocker = create_engine(pg_database)
    # Autocommit: pg_stat_activity is a snapshot per transaction, and the watcher polls it.
    watching = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    form = simulator.inbound_form("STOP", NUMBER, SENDER)
    first: list[object] = []
    try:
        [worker] = server.workers()
        with blocker.connect() as held:
            # Hold the suppression list so the worker stops inside its transaction, after the
            # inbound message is written and before the consent change is.
            held.execute(text("LOCK TABLE suppressions IN ACCESS EXCLUSIVE MODE"))
            request = threading.Thread(
                target=lambda: first.append(_post_catching(server.base + PATH, form)), daemon=True
            )
            request.start()
            wait_until(lambda: _backend_waiting(watching), 30, "the worker to block inside its transaction")
            os.kill(worker, signal.SIGKILL)
            request.join(timeout=30)
            held.rollback()

        assert first and first[0] != 200, "the killed request must not have been answered as done"
        # The killed worker's transaction is rolled back whole: not even the inbound message remains.
        wait_until(lambda: not _backend_waiting(watching), 30, "the dead worker's backend to end")
        assert counts(database) == {"inbound_messages": 0, "consent_events": 0, "suppressions": 0}

        wait_until(lambda: server.workers() not in ([], [worker]), 60, "gunicorn to start a new worker")
        wait_until(lambda: _post_catching(server.base + "/healthz", None) == 200, 60, "the new worker to answer")
        for _ in range(2):  # the provider's retry, and one more for good measure
            status, body = simulator.post(server.base + PATH, form, TOKEN)
            assert status == 200 and "<Message>" in body
        assert counts(database) == {"inbound_messages": 1, "consent_events": 1, "suppressions": 1}
        with database.begin() as session:
            # The lock row is keyed by the number's pseudonym (consent.lock_subject).
            lock = crypto.current().pseudonym(NUMBER)
            assert session.scalar(select(func.count()).select_from(Subject).where(Subject.number == lock)) == 1
    finally:
        server.stop()
        blocker.dispose()
        watching.dispose()
        database.dispose()


def _post_catching(url: str, form: dict[str, str] | None) -> object:
    """The HTTP status, or the exception a dropped connection raised."""
    import urllib.request

    try:
        if form is None:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status
        return simulator.post(url, form, TOKEN, timeout=60)[0]
    except Exception as error:  # noqa: BLE001 - a killed worker drops the connection
        return error


def _backend_waiting(engine) -> bool:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.execute(BLOCKED_MID_TRANSACTION).first() is not None
