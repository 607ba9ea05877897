"""The read-only path of single checks: same answers as a write transaction, and no SQLite write lock."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from storage import GLOBAL_SCOPE, Database
from storage.lists import export, scrub
from storage.consent import ConsentChange, apply_change, suppression_status
from storage.erasure import erase

SENDER = "+18005550199"
OTHER = "+18005550111"


def change(database: Database, number: str, action: str, scope: str = SENDER, topic: str = "*",
           until: datetime | None = None) -> None:
    with database.begin() as session:
        apply_change(session, ConsentChange(number=number, scopes=(scope,), action=action, source="keyword",  # type: ignore[arg-type]
                                            topic=topic, until=until))


def test_the_read_path_answers_like_a_write_transaction(database: Database) -> None:
    soon = datetime.now(timezone.utc) + timedelta(days=1)
    change(database, "+14155550100", "opt_out")
    change(database, "+14155550101", "opt_out", scope=GLOBAL_SCOPE)
    change(database, "+14155550102", "opt_out", topic="promos")
    change(database, "+14155550103", "pause", until=soon)
    change(database, "+14155550104", "opt_out", scope=OTHER)
    change(database, "+14155550105", "opt_out")
    with database.begin() as session:
        erase(session, "+14155550105", actor="dpo", reason="request")
    numbers = [f"+1415555010{i}" for i in range(7)]
    for sender in (SENDER, OTHER, None):
        for topic in ("promos", "orders", None):
            for later in (None, soon + timedelta(minutes=1)):
                with database.begin() as session:
                    expected = [suppression_status(session, n, sender, topic, later) for n in numbers]
                with database.read() as connection:
                    assert [suppression_status(connection, n, sender, topic, later) for n in numbers] == expected
    with database.read() as connection:
        assert suppression_status(connection, "+14155550105", OTHER).suppressed  # erased, still blocked


def test_checks_scrubs_and_exports_do_not_wait_for_a_writer(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers")
    change(database, "+14155550100", "opt_out")
    answers: list[object] = []

    def check() -> None:
        with database.read() as connection:
            answers.append(suppression_status(connection, "+14155550100", SENDER).suppressed)
            answers.append(scrub(connection, ["+14155550100", "+14155550101"], SENDER, None))
            answers.append([row[0] for row in export(connection)])

    with database.begin() as session:
        session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: this transaction holds the write lock
        reader = threading.Thread(target=check)
        reader.start()
        reader.join(timeout=10)
        assert answers == [True, {"+14155550100"}, ["+14155550100"]]
