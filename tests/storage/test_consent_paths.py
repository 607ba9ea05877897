"""One planner, three paths: any sequence of changes ends the same whichever path applies it (hypothesis).

The general path (`consent.apply_change`) takes every change; the webhook's batches take keyword
STOP, STOPALL and START; a bulk import takes opted-out rows. Each example starts the same numbers
from a state made on the general path (opt-outs, pauses, pending and confirmed subscriptions),
applies its changes once on the general path (rolled back) and once on the other path, and compares
the suppressions, the subscriptions and the ledger events: everything but ids, times and the fields
that name the source, actor, batch or line. Every example uses new numbers, so one database serves all.
"""

from __future__ import annotations

import itertools
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from storage import GLOBAL_SCOPE, ConsentEvent, Database, Suppression, crypto
from storage.consent.bulk import ImportRow, import_suppressions
from storage.consent import ConsentChange, apply_change
from storage.consent.batch import InboundRecord, record_batch
from storage.dbapi import transaction
from storage.ledger import lock_head, verify_chain
from storage.subscriptions import Subscription

SCOPES = ("+18005550199", "+18005550111")
TOPICS = ("*", "deals")
LATER = datetime.now(timezone.utc) + timedelta(days=30)
DECISION = {"intent": "opt_out", "language": "en", "rule": "STOP", "tier": "exact", "score": 1.0}
_numbers = itertools.count(int.from_bytes(os.urandom(2), "big") * 1000)
EXAMPLES = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# A state to start from: (which of two numbers, action, scope, topic), made on the general path.
setup_steps = st.lists(st.tuples(st.integers(0, 1), st.sampled_from(("opt_out", "pause", "join", "confirm", "stop_all")),
                                 st.sampled_from(SCOPES), st.sampled_from(TOPICS)), max_size=5)
keyword_steps = st.lists(st.tuples(st.integers(0, 1), st.sampled_from(("opt_out", "opt_in", "stop_all")),
                                   st.sampled_from(SCOPES)), min_size=1, max_size=6)
import_steps = st.lists(st.tuples(st.integers(0, 1), st.sampled_from((*SCOPES, GLOBAL_SCOPE)), st.sampled_from(TOPICS)),
                        min_size=1, max_size=6)


def fresh_numbers() -> tuple[str, str]:
    base = next(_numbers)
    return f"+1415{base % 10_000_000:07d}", f"+1628{base % 10_000_000:07d}"


def change(number: str, action: str, scope: str, topic: str = "*", source: str = "keyword") -> ConsentChange:
    until = LATER if action in ("pause", "join") else None
    scopes = (GLOBAL_SCOPE,) if action == "stop_all" else (scope,)
    return ConsentChange(number=number, scopes=scopes, action="opt_out" if action == "stop_all" else action,  # type: ignore[arg-type]
                         source=source, topic=topic, until=until, explanation=dict(DECISION), rules_version="test")


def start_from(database: Database, numbers: tuple[str, str], steps: list[tuple[int, str, str, str]]) -> None:
    for which, action, scope, topic in steps:
        with database.begin() as session:
            apply_change(session, change(numbers[which], action, scope, "*" if action in ("join", "confirm") else topic))


def held(session: Any, numbers: tuple[str, ...]) -> tuple[list[Any], list[Any], list[Any]]:
    """Suppressions, subscriptions and events of these numbers, without ids, times, sources and actors."""
    s, sub, e = Suppression, Subscription, ConsentEvent
    suppressions = sorted(tuple(row) for row in session.execute(
        select(s.number, s.sender_scope, s.topic, s.until).where(s.number.in_(numbers))))
    subscriptions = sorted(tuple(row) for row in session.execute(
        select(sub.number, sub.sender_scope, sub.topic, sub.status, sub.expires_at).where(sub.number.in_(numbers))))
    events = [(event.number, event.sender_scope, event.topic, event.action, event.changed, event.until,
               (event.explanation or {}).get("subscriptions_ended"), (event.explanation or {}).get("state"))
              for event in session.scalars(select(e).where(e.number.in_(numbers)).order_by(e.id))]
    return suppressions, subscriptions, events


def on_the_general_path(database: Database, numbers: tuple[str, str], changes: list[ConsentChange]) -> Any:
    with database.sessions() as session:
        for one in changes:
            apply_change(session, one)
        session.flush()
        found = held(session, numbers)
        session.rollback()
    return found


def inbound(number: str, action: str, scope: str) -> InboundRecord:
    return InboundRecord(provider="twilio", message_id="SM" + os.urandom(16).hex(), from_address=number, from_kind="e164",
                   to_address=scope, scopes=(scope,), body="STOP", intent="opt_out", decision=dict(DECISION),
                   rules_version="test", reply=None, change="opt_out" if action == "stop_all" else action,  # type: ignore[arg-type]
                   stop_all=action == "stop_all")


@EXAMPLES
@given(setup=setup_steps, steps=keyword_steps)
def test_a_batch_ends_as_the_general_path(database: Database, setup: list[Any], steps: list[Any]) -> None:
    numbers = fresh_numbers()
    start_from(database, numbers, setup)
    expected = on_the_general_path(database, numbers, [change(numbers[w], a, s) for w, a, s in steps])
    with database.begin() as session:
        lock_head(session)
    with transaction(database) as driver:
        record_batch(driver, [inbound(numbers[w], a, s) for w, a, s in steps])
    with database.begin() as session:
        assert held(session, numbers) == expected


@EXAMPLES
@given(setup=setup_steps, rows=import_steps)
def test_an_import_ends_as_the_general_path(database: Database, setup: list[Any], rows: list[Any]) -> None:
    numbers = fresh_numbers()
    start_from(database, numbers, setup)
    # An import keeps one row per (number, scope, topic): the general path gets the rows it keeps.
    unique = list(dict.fromkeys((numbers[w], scope, topic) for w, scope, topic in rows))
    expected = on_the_general_path(database, numbers, [change(n, "opt_out", s, t, source="import") for n, s, t in unique])
    with database.begin() as session:
        import_suppressions(session, [ImportRow(line, *key) for line, key in enumerate(unique, 2)], actor="test")
    with database.begin() as session:
        assert held(session, numbers) == expected


def test_an_imported_opt_out_ends_subscriptions_as_a_keyword_one_does(database: Database) -> None:
    """The drift the one planner fixed: an import used to leave the number's subscriptions in place."""
    pending, confirmed = fresh_numbers()
    with database.begin() as session:
        for number in (pending, confirmed):
            apply_change(session, change(number, "join", SCOPES[0]))
        apply_change(session, change(confirmed, "confirm", SCOPES[0]))
        assert session.scalar(select(Subscription.id).where(Subscription.number == confirmed)) is not None
    with database.begin() as session:
        result = import_suppressions(session, [ImportRow(2, pending, SCOPES[0]), ImportRow(3, confirmed, GLOBAL_SCOPE)],
                                     actor="test")
    assert result.added == 2
    with database.begin() as session:
        assert session.scalars(select(Subscription).where(Subscription.number.in_((pending, confirmed)))).all() == []
        ended = session.scalars(select(ConsentEvent).where(ConsentEvent.source == "import",
                                                           ConsentEvent.number.in_((pending, confirmed)))
                                .order_by(ConsentEvent.id)).all()
        assert [(e.number, e.changed, e.explanation.get("subscriptions_ended")) for e in ended] == [
            (pending, True, 1), (confirmed, True, 1)]
        assert verify_chain(session).ok


@pytest.mark.parametrize("rows", [150_000])
def test_a_large_import_ends_subscriptions_from_the_helper_process(database: Database, rows: int) -> None:
    """From `import_chain.HELPER_ROWS` rows on SQLite the events are chained in a helper process: it plans the same."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("the helper process chains large imports on SQLite only")
    subscribed, _ = fresh_numbers()
    with database.begin() as session:
        apply_change(session, change(subscribed, "join", SCOPES[1]))
    listed = [ImportRow(line, f"+1929{line:07d}", SCOPES[1]) for line in range(2, rows)] + [ImportRow(rows, subscribed, SCOPES[1])]
    with database.begin() as session:
        import_suppressions(session, listed, actor="test")
    with database.begin() as session:
        assert session.scalars(select(Subscription).where(Subscription.number == subscribed)).all() == []
        [event] = session.scalars(select(ConsentEvent).where(ConsentEvent.subject == crypto.current().digest(subscribed),
                                                             ConsentEvent.source == "import")).all()
        assert event.explanation == {"subscriptions_ended": 1}
        assert verify_chain(session).ok
