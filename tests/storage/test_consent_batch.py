"""The batched intake against the general consent path: the same suppressions, the same ledger, for every case.

`consent.apply_change` stays the one description of a consent change; the intake plans STOP and
START for a whole batch in memory. Each row below starts from a state made with apply_change,
applies its messages once through apply_change (rolled back) and once through the intake in one
batch, and compares what the database holds.
"""

from __future__ import annotations

import fcntl
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from storage import GLOBAL_SCOPE, ConsentEvent, Database, InboundRow, Suppression, crypto
from storage.consent import ConsentChange, apply_change
from storage.crypto import canonical_json
from storage.dbapi import transaction
from storage.erasure import erase
from storage.consent.batch import InboundRecord, record_batch
from storage.consent.intake import _WriterLock, intake
from storage.ledger import lock_head, verify_chain
from storage.limits import ReplyPolicy
from storage.migrate import upgrade

A, B = "+14155550100", "+14155550101"
SENDER, OTHER, SERVICE = "+18005550199", "+18005550111", "MG" + "0" * 32
DECISION = {"intent": "opt_out", "scope": "sender", "language": "en", "rule": "STOP", "tier": "exact", "score": 1.0,
            "normalized": "stop", "needs_review": False, "version": "test"}
LATER = datetime.now(timezone.utc) + timedelta(days=30)

Step = tuple[str, str, tuple[str, ...]]
"""(number, action, scopes) for apply_change; a message is (number, 'opt_out' | 'opt_in' | 'stop_all', scopes)."""


def message(number: str, change: str, scopes: tuple[str, ...] = (SENDER,), reply: str | None = None,
            message_id: str | None = None, limits: ReplyPolicy | None = None) -> InboundRecord:
    return InboundRecord(
        provider="twilio", message_id=message_id or "SM" + os.urandom(16).hex(), from_address=number,
        from_kind="e164", to_address=scopes[-1], scopes=scopes, body="STOP", intent=DECISION["intent"],
        decision=DECISION, rules_version="test", reply=reply,
        change="opt_out" if change == "stop_all" else change,  # type: ignore[arg-type]
        stop_all=change == "stop_all", limits=limits,
    )


def reference(item: InboundRecord) -> ConsentChange:
    """The change the general path would apply for this message."""
    assert item.change is not None
    return ConsentChange(number=item.from_address, scopes=(GLOBAL_SCOPE,) if item.stop_all else item.scopes,
                         action=item.change, source="keyword", explanation=item.decision, rules_version="test")


def suppressions(session: Any) -> list[tuple[Any, ...]]:
    """The suppression list as a sorted list, without ids and times."""
    rows = session.execute(select(Suppression.number, Suppression.sender_scope, Suppression.topic, Suppression.until,
                                  Suppression.source))
    return sorted(tuple(row) for row in rows)


def described(events: Any) -> list[tuple[Any, ...]]:
    """One message's events, in an order of their own (START lifts several rows in no set order)."""
    return sorted((e.number, e.sender_scope, e.topic, e.action, e.changed, e.source, canonical_json(e.explanation)) for e in events)


def batch_events(session: Any) -> list[list[tuple[Any, ...]]]:
    """The intake's events, grouped by the message that caused them, in message order."""
    events = session.scalars(select(ConsentEvent).where(ConsentEvent.inbound_message_id.isnot(None))
                             .order_by(ConsentEvent.id)).all()
    groups: dict[int, list[Any]] = {}
    for event in events:
        groups.setdefault(event.inbound_message_id, []).append(event)
    return [described(group) for _, group in sorted(groups.items())]


def batch(database: Database, items: list[InboundRecord]) -> list[Any]:
    """Record `items` in one batch (the head row first: the PostgreSQL tests empty every table, the migration makes it)."""
    with database.begin() as session:
        lock_head(session)
    with transaction(database) as driver:
        return record_batch(driver, items)


def setup(database: Database, steps: list[tuple[str, str, str, datetime | None]]) -> None:
    for number, action, scope, until in steps:
        with database.begin() as session:
            if action == "erase":
                erase(session, number, actor="test", reason="request")
            else:
                apply_change(session, ConsentChange(number=number, scopes=(scope,), action=action,  # type: ignore[arg-type]
                                                    source="keyword", until=until, explanation=DECISION))


CASES: list[tuple[str, list[tuple[str, str, str, datetime | None]], list[InboundRecord]]] = [
    ("stop", [], [message(A, "opt_out")]),
    ("start-alone", [], [message(A, "opt_in")]),
    ("stop-twice", [], [message(A, "opt_out"), message(A, "opt_out")]),
    ("stop-start-stop", [], [message(A, "opt_out"), message(A, "opt_in"), message(A, "opt_out")]),
    ("start-then-stop-of-a-stopped-number", [(A, "opt_out", SENDER, None)], [message(A, "opt_in"), message(A, "opt_out")]),
    ("two-numbers", [(B, "opt_out", SENDER, None)], [message(A, "opt_out"), message(B, "opt_in"), message(A, "opt_in")]),
    ("stop-ends-a-pause", [(A, "pause", SENDER, LATER)], [message(A, "opt_out")]),
    ("start-lifts-a-pause", [(A, "pause", SENDER, LATER)], [message(A, "opt_in")]),
    ("stopall", [(A, "opt_out", SENDER, None)], [message(A, "stop_all")]),
    ("start-after-stopall", [(A, "opt_out", GLOBAL_SCOPE, None), (A, "opt_out", OTHER, None)], [message(A, "opt_in")]),
    ("service-scopes", [(A, "opt_out", SERVICE, None)], [message(A, "opt_out", (SERVICE, SENDER)),
                                                         message(A, "opt_in", (SERVICE, SENDER))]),
    ("stop-ends-pending-join", [(A, "join", SENDER, LATER)], [message(A, "opt_out")]),
    ("stopall-ends-every-join", [(A, "join", SENDER, LATER), (A, "join", OTHER, LATER)], [message(A, "stop_all")]),
    ("stop-elsewhere-keeps-join", [(A, "join", OTHER, LATER)], [message(A, "opt_out")]),
    ("erased-number-comes-back", [(A, "opt_out", SENDER, None), (A, "erase", "", None)],
     [message(A, "opt_in"), message(A, "opt_out")]),
]


@pytest.mark.parametrize(("steps", "messages"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_batch_changes_consent_as_apply_change_does(database: Database, steps: list[Any], messages: list[InboundRecord]) -> None:
    setup(database, steps)
    with database.sessions() as session:
        expected_events = [described(apply_change(session, reference(item))) for item in messages]
        session.flush()
        expected = suppressions(session)
        session.rollback()
    recorded = batch(database, messages)
    assert [r.duplicate for r in recorded] == [False] * len(messages)
    with database.begin() as session:
        assert suppressions(session) == expected
        # Every message's events, linked to it, in the order the messages came.
        assert batch_events(session) == expected_events
        assert verify_chain(session).ok


def test_one_batch_ends_as_one_message_at_a_time(database: Database) -> None:
    """The same conversation from two pairs of numbers: one message per transaction, and all in one batch."""
    def conversation(first: str, second: str) -> list[InboundRecord]:
        return [message(first, "opt_out"), message(first, "opt_in"), message(second, "stop_all"),
                message(first, "opt_out"), message(second, "opt_in")]

    for item in conversation(A, B):
        intake(database).record(item)
    batch(database, conversation("+14155550200", "+14155550201"))
    with database.begin() as session:
        rows = suppressions(session)
        events = batch_events(session)
        assert verify_chain(session).ok
    renamed = {A: "+14155550200", B: "+14155550201"}
    one_at_a_time = [row for row in rows if row[0] in renamed]
    assert [(renamed[row[0]], *row[1:]) for row in one_at_a_time] == [row for row in rows if row[0] not in renamed]
    assert [[(renamed[e[0]], *e[1:]) for e in group] for group in events[:5]] == events[5:]


def test_a_retry_gets_the_first_answer_in_the_same_batch_and_later(database: Database) -> None:
    first = message(A, "opt_out", reply="unsubscribed", message_id="SMretry")
    recorded = batch(database, [first, first])
    assert [(r.reply, r.duplicate) for r in recorded] == [("unsubscribed", False), ("unsubscribed", True)]
    # A later retry, with others: the insert finds it stored, the batch is tried again reading it first.
    again = intake(database).commits
    assert again.submit(message(A, "opt_out", reply="other text", message_id="SMretry")).reply == "unsubscribed"
    with database.begin() as session:
        assert session.scalar(select(InboundRow.body).where(InboundRow.provider_message_id == "SMretry")) == "STOP"
        assert [e.action for e in session.scalars(select(ConsentEvent))] == ["opt_out"]


def test_reply_limits_count_the_replies_of_the_same_batch(database: Database) -> None:
    limits = ReplyPolicy(max_replies=2, repeat_interval=timedelta(minutes=10))
    sent = [("opt_out", "unsubscribed"), ("opt_out", "unsubscribed"), ("opt_in", "subscribed"), ("opt_in", "help"),
            ("opt_in", "help"), ("opt_out", "unsubscribed again")]
    recorded = batch(database, [message(A, change, reply=t, limits=limits) for change, t in sent])
    assert [(r.reply, r.withheld) for r in recorded] == [
        ("unsubscribed", None), (None, "repeat"), ("subscribed", None), (None, "rate"), (None, "rate"),
        # Issue 14: an opt-out's confirmation is never withheld by the rate limit, only as a repeat.
        ("unsubscribed again", None)]
    [later] = batch(database, [message(A, "opt_in", reply="help", limits=limits)])
    assert later.withheld == "rate"  # the replies of the first batch were stored


def test_bodies_and_explanations_are_stored_encrypted(database: Database) -> None:
    batch(database, [message(A, "opt_out")])
    with database.begin() as session:
        body, decision = session.execute(text("SELECT body, decision FROM inbound_messages")).one()
        explanation = session.scalar(text("SELECT explanation FROM consent_events"))
    # Ciphertext, and the plaintext only once decrypted (a substring test on base64 can match by chance).
    assert all(crypto.is_ciphertext(value) for value in (body, decision, explanation))
    keys = crypto.current()
    assert keys.decrypt(body) == "STOP"
    assert all("stop" in keys.decrypt(value).lower() for value in (decision, explanation))


def test_driver_errors_come_out_as_sqlalchemy_errors_and_roll_back(database: Database) -> None:
    batch(database, [message(A, "opt_out")])
    with pytest.raises(IntegrityError), transaction(database) as driver:
        driver.execute("INSERT INTO subjects (number, created_at) VALUES (?, ?)", ("+14155550999", "2026-01-01 00:00:00"))
        # A's lock row, keyed by its pseudonym, is there since the batch: a second one breaks the key.
        driver.execute("INSERT INTO subjects (number, created_at) VALUES (?, ?)",
                       (crypto.current().pseudonym(A), "2026-01-01 00:00:00"))
    with database.begin() as session:
        assert session.scalar(text("SELECT count(*) FROM subjects WHERE number = '+14155550999'")) == 0


def test_sqlite_batches_of_all_workers_queue_on_one_file_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade(url)
    database = Database(url)
    lock = _WriterLock(database)
    assert lock.path == f"{tmp_path / 'gateway.db'}.writer-lock"
    with lock, open(lock.path) as other:  # another worker's own open file
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(lock.path) as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    database.dispose()


def test_an_unreachable_database_is_an_operational_error_as_the_spool_expects() -> None:
    database = Database("postgresql+psycopg://postgres@127.0.0.1:9/nowhere", connect_args={"connect_timeout": 2})
    with pytest.raises(OperationalError):
        intake(database).record(message(A, "opt_out"))
    database.dispose()


def test_an_exhausted_pool_is_a_pool_timeout_as_the_spool_expects(database_url: str) -> None:
    # A pool timeout has no driver error (`orig`) to tell a deadlock by: it must come out as it is.
    database = Database(database_url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    with database.engine.connect(), pytest.raises(PoolTimeout):  # another request holds the only connection
        intake(database).record(message(A, "opt_out"))
    database.dispose()
