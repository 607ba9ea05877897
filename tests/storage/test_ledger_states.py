"""Every consent state transition, with its ledger events: double opt-in, pauses, STOP while pending, START after STOPALL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from storage import GLOBAL_SCOPE, Database
from storage.consent import ConsentChange, apply_change, suppression_status
from storage.ledger import verify_chain
from storage.subscriptions import states

NUMBER = "+14155550100"
SENDER = "+18005550199"
OTHER = "+18005550111"
HOUR = timedelta(hours=1)


def now() -> datetime:
    return datetime.now(timezone.utc)


def step(database: Database, action: str, scope: str = SENDER, topic: str = "*", until: datetime | None = None) -> list[tuple[str, bool, str | None]]:
    """Apply one change; the (action, changed, state) of each ledger event it appended."""
    with database.begin() as session:
        events = apply_change(session, ConsentChange(number=NUMBER, scopes=(scope,), action=action, source="keyword",  # type: ignore[arg-type]
                                                     topic=topic, until=until))
        return [(e.action, e.changed, e.explanation.get("state")) for e in events]


def subscription(database: Database) -> list[tuple[str, str]]:
    with database.begin() as session:
        return [(s.scope, s.status) for s in states(session, NUMBER)]


def suppressed(database: Database, sender: str = SENDER, at: datetime | None = None) -> bool:
    with database.begin() as session:
        return suppression_status(session, NUMBER, sender, now=at).suppressed


def test_join_then_yes_in_time_subscribes(database: Database) -> None:
    assert step(database, "join", until=now() + HOUR) == [("join", True, "pending")]
    assert subscription(database) == [(SENDER, "pending")]
    assert step(database, "confirm") == [("confirm", True, "subscribed")]
    assert subscription(database) == [(SENDER, "subscribed")]
    assert step(database, "join", until=now() + HOUR) == [("join", False, "subscribed")]  # already in
    assert step(database, "confirm") == [("confirm", False, "nothing_pending")]


def test_yes_after_the_window_does_nothing(database: Database) -> None:
    step(database, "join", until=now() - timedelta(seconds=1))
    assert subscription(database)[0][1] == "expired"
    assert step(database, "confirm") == [("confirm", False, "expired")]
    assert subscription(database)[0][1] == "expired"


def test_unsolicited_yes_does_nothing_and_never_lifts_a_stop(database: Database) -> None:
    step(database, "opt_out")
    assert step(database, "confirm") == [("confirm", False, "nothing_pending")]
    assert suppressed(database)
    assert subscription(database) == []


def test_yes_to_another_sender_confirms_nothing(database: Database) -> None:
    step(database, "join", until=now() + HOUR)
    assert step(database, "confirm", scope=OTHER) == [("confirm", False, "nothing_pending")]
    assert subscription(database) == [(SENDER, "pending")]


def test_join_again_renews_the_window(database: Database) -> None:
    step(database, "join", until=now() - timedelta(seconds=1))
    assert step(database, "join", until=now() + HOUR) == [("join", True, "pending")]
    assert step(database, "confirm")[0] == ("confirm", True, "subscribed")


def test_stop_while_pending_ends_it_and_a_later_yes_does_nothing(database: Database) -> None:
    step(database, "join", until=now() + HOUR)
    with database.begin() as session:
        [event] = apply_change(session, ConsentChange(number=NUMBER, scopes=(SENDER,), action="opt_out", source="keyword"))
        assert event.explanation["subscriptions_ended"] == 1
    assert subscription(database) == [] and suppressed(database)
    assert step(database, "confirm") == [("confirm", False, "nothing_pending")]
    assert suppressed(database)


def test_confirming_after_a_stop_and_a_new_join_lifts_the_stop(database: Database) -> None:
    """A JOIN alone does not lift an earlier STOP; the YES that confirms it does, in the same ledger entry set."""
    step(database, "opt_out")
    step(database, "join", until=now() + HOUR)
    assert suppressed(database)
    assert step(database, "confirm") == [("confirm", True, "subscribed"), ("opt_in", True, None)]
    assert not suppressed(database)


def test_stopall_ends_subscriptions_with_every_sender(database: Database) -> None:
    step(database, "join", until=now() + HOUR)
    step(database, "join", scope=OTHER, until=now() + HOUR)
    step(database, "confirm", scope=OTHER)
    step(database, "opt_out", scope=GLOBAL_SCOPE)
    assert subscription(database) == []
    assert suppressed(database, OTHER) and suppressed(database, "+18005550122")


def test_start_after_stopall_lifts_it_for_that_sender_and_everywhere(database: Database) -> None:
    step(database, "opt_out", scope=GLOBAL_SCOPE)
    assert step(database, "opt_in") == [("opt_in", True, None)]
    assert not suppressed(database) and not suppressed(database, OTHER)


@pytest.mark.parametrize("minutes", [-1, 1], ids=["ended", "running"])
def test_pause_expiry(database: Database, minutes: int) -> None:
    step(database, "pause", until=now() + timedelta(minutes=minutes))
    assert suppressed(database) is (minutes > 0)
    assert not suppressed(database, at=now() + timedelta(minutes=2))


def test_every_transition_keeps_the_chain(database: Database) -> None:
    step(database, "join", until=now() + HOUR)
    step(database, "confirm")
    step(database, "pause", until=now() + HOUR)
    step(database, "opt_out", topic="promos")
    step(database, "opt_out", scope=GLOBAL_SCOPE)
    step(database, "opt_in")
    with database.begin() as session:
        result = verify_chain(session)
    assert (result.ok, result.checked) == (True, 8)  # the opt-in lifts the pause, the topic and the STOPALL


def test_a_join_needs_a_deadline() -> None:
    with pytest.raises(ValueError):
        ConsentChange(number=NUMBER, scopes=(SENDER,), action="join", source="keyword")
