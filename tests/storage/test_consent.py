"""The consent queries on their own: suppression rows and ledger events for each transition."""

from __future__ import annotations

import pytest

from datetime import datetime, timedelta, timezone

from storage import GLOBAL_SCOPE, Database
from storage.consent import ConsentChange, apply_change, events_for, suppression_status

NUMBER = "+14155550100"


def change(action: str, *scopes: str) -> ConsentChange:
    return ConsentChange(number=NUMBER, scopes=scopes, action=action, source="keyword")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("steps", "sender", "suppressed", "ledger"),
    [
        ([("opt_out", "+18005550199")], "+18005550199", True, [("opt_out", "+18005550199", True)]),
        ([("opt_out", "+18005550199")], "+18005550111", False, [("opt_out", "+18005550199", True)]),
        (
            [("opt_out", "+18005550199"), ("opt_out", "+18005550199")],
            "+18005550199",
            True,
            [("opt_out", "+18005550199", True), ("opt_out", "+18005550199", False)],
        ),
        (
            [("opt_out", "+18005550199"), ("opt_in", "+18005550199")],
            "+18005550199",
            False,
            [("opt_out", "+18005550199", True), ("opt_in", "+18005550199", True)],
        ),
        ([("opt_in", "+18005550199")], "+18005550199", False, [("opt_in", "+18005550199", False)]),
        ([("opt_out", GLOBAL_SCOPE)], "+12065550123", True, [("opt_out", GLOBAL_SCOPE, True)]),
        (
            [("opt_out", GLOBAL_SCOPE), ("opt_out", "+18005550199"), ("opt_in", "+18005550199")],
            "+12065550123",
            False,
            [
                ("opt_out", GLOBAL_SCOPE, True),
                ("opt_out", "+18005550199", True),
                ("opt_in", "+18005550199", True),
                ("opt_in", GLOBAL_SCOPE, True),
            ],
        ),
    ],
    ids=["stop", "stop-other-sender", "stop-twice", "stop-start", "start-alone", "stopall", "stopall-stop-start"],
)
def test_transitions(database: Database, steps: list[tuple[str, str]], sender: str, suppressed: bool, ledger: list[tuple[str, str, bool]]) -> None:
    for action, scope in steps:
        with database.begin() as session:
            apply_change(session, change(action, scope))
    with database.begin() as session:
        assert suppression_status(session, NUMBER, sender).suppressed is suppressed
        events = events_for(session, NUMBER)
        assert sorted((e.action, e.sender_scope, e.changed) for e in events) == sorted(ledger)


def test_status_lists_every_scope_without_a_sender(database: Database) -> None:
    with database.begin() as session:
        apply_change(session, change("opt_out", "+18005550199", "MGa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"))
    with database.begin() as session:
        status = suppression_status(session, NUMBER, None)
    assert status.suppressed
    assert {entry.scope for entry in status.entries} == {"+18005550199", "MGa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"}
    assert all(entry.since.tzinfo is not None for entry in status.entries)


SENDER = "+18005550199"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def apply(database: Database, action: str, topic: str = "*", until: datetime | None = None) -> list[bool]:
    with database.begin() as session:
        events = apply_change(
            session,
            ConsentChange(number=NUMBER, scopes=(SENDER,), action=action, source="api", topic=topic, until=until),  # type: ignore[arg-type]
        )
        return [event.changed for event in events]


def allowed(database: Database, topic: str | None, at: datetime) -> bool:
    with database.begin() as session:
        return not suppression_status(session, NUMBER, SENDER, topic, now=at).suppressed


def test_pause_ends_by_itself(database: Database) -> None:
    until = NOW + timedelta(days=30)
    assert apply(database, "pause", until=until) == [True]
    assert not allowed(database, None, NOW)
    assert not allowed(database, "promotions", until - timedelta(seconds=1))
    assert allowed(database, None, until)
    assert allowed(database, "promotions", until + timedelta(days=1))


def test_pause_never_weakens_an_opt_out(database: Database) -> None:
    apply(database, "opt_out")
    assert apply(database, "pause", until=NOW + timedelta(days=1)) == [False]
    assert not allowed(database, None, NOW + timedelta(days=365))


def test_opt_out_during_a_pause_makes_it_permanent(database: Database) -> None:
    apply(database, "pause", until=NOW + timedelta(days=1))
    assert apply(database, "opt_out") == [True]
    assert not allowed(database, None, NOW + timedelta(days=365))


def test_topic_opt_out_only_stops_that_topic(database: Database) -> None:
    apply(database, "opt_out", topic="promotions")
    assert not allowed(database, "promotions", NOW)
    assert allowed(database, "orders", NOW)
    assert not allowed(database, None, NOW)  # no topic named: any suppression counts
    assert apply(database, "opt_in", topic="orders") == [False]
    assert not allowed(database, "promotions", NOW)
    assert apply(database, "opt_in", topic="promotions") == [True]
    assert allowed(database, None, NOW)


def test_full_opt_in_lifts_every_topic_and_pause(database: Database) -> None:
    apply(database, "opt_out", topic="promotions")
    apply(database, "pause", topic="news", until=NOW + timedelta(days=7))
    assert sorted(apply(database, "opt_in")) == [True, True]
    assert allowed(database, None, NOW)


def test_pause_needs_an_end_and_only_a_pause_has_one() -> None:
    with pytest.raises(ValueError):
        ConsentChange(number=NUMBER, scopes=(SENDER,), action="pause", source="api")
    with pytest.raises(ValueError):
        ConsentChange(number=NUMBER, scopes=(SENDER,), action="opt_out", source="api", until=NOW)
    with pytest.raises(ValueError):
        ConsentChange(number=NUMBER, scopes=(), action="opt_out", source="api")


def test_a_change_waiting_behind_an_import_sees_what_the_import_wrote(database: Database, database_url: str) -> None:
    """An import holds the ledger head while it writes; a STOP for a number it also suppresses waits,
    then must see the import's row (not insert a second one and fail on the unique key)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writing transaction at a time: the race needs PostgreSQL's row locks")
    import threading

    from sqlalchemy import text

    from storage import ledger
    from storage.models import ConsentEvent, Suppression
    from storage.types import utcnow

    sender = "+18005550199"
    errors: list[BaseException] = []

    def stop() -> None:
        try:
            with database.begin() as session:
                apply_change(session, change("opt_out", sender))
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    with database.begin() as session:  # the importing transaction
        ledger.lock_head(session)
        waiting = threading.Thread(target=stop)
        waiting.start()
        for _ in range(200):  # until the STOP waits for a lock this transaction holds
            session.execute(text("SELECT pg_stat_clear_snapshot()"))  # else the first answer is kept all along
            blocked = session.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )).scalar_one()
            if blocked:
                break
            waiting.join(0.05)
        assert blocked, f"the STOP did not wait for the import: {errors}"
        [event] = ledger.append(session, [ConsentEvent(
            number=NUMBER, sender_scope=sender, topic="*", action="opt_out", source="import", changed=True,
            explanation={}, created_at=utcnow(),
        )])
        session.add(Suppression(number=NUMBER, sender_scope=sender, topic="*", source="import", event_id=event.id))
    waiting.join(30)
    assert not errors, errors
    with database.begin() as session:
        assert [(e.source, e.changed) for e in events_for(session, NUMBER)] == [("import", True), ("keyword", False)]
        assert len(suppression_status(session, NUMBER, sender).entries) == 1
