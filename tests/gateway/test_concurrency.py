"""Concurrent deliveries for one number: one suppression, a consistent ledger, one answer per message id."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from gateway import simulator
from storage import ConsentEvent, InboundRow, Suppression
from tests.helpers import Twilio

ROUNDS = 8


def run_together(app: Flask, jobs: list[Callable[[Twilio], object]]) -> list[object]:
    """Run each job in its own thread with its own client, released at the same instant."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)
    errors: list[BaseException] = []

    def work(index: int, job: Callable[[Twilio], object]) -> None:
        twilio = Twilio(app.test_client())
        barrier.wait()
        try:
            results[index] = job(twilio)
        except BaseException as error:  # surfaced below, not swallowed
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_two_concurrent_stops_leave_one_suppression(app: Flask) -> None:
    for round_ in range(ROUNDS):
        number = f"+1415555{round_:04d}"
        responses = run_together(app, [lambda t, n=number: t.sms("STOP", from_=n)] * 2)
        assert [r.status_code for r in responses] == [200, 200]  # type: ignore[attr-defined]

    database = app.extensions["gateway.database"]
    with database.begin() as session:
        for round_ in range(ROUNDS):
            number = f"+1415555{round_:04d}"
            rows = session.scalars(select(Suppression).where(Suppression.number == number)).all()
            assert len(rows) == 1
            events = session.scalars(
                select(ConsentEvent).where(ConsentEvent.number == number).order_by(ConsentEvent.id)
            ).all()
            # Both requests are in the ledger, in order: the first changed the state, the second did not.
            assert [(e.action, e.changed) for e in events] == [("opt_out", True), ("opt_out", False)]
            assert rows[0].event_id == events[0].id


def test_concurrent_retries_of_one_message_are_applied_once(app: Flask) -> None:
    for round_ in range(ROUNDS):
        form = simulator.inbound_form("STOP", f"+1212555{round_:04d}", "+18005550199")
        responses = run_together(app, [lambda t, f=form: t.post(f)] * 3)
        bodies = {r.data for r in responses}  # type: ignore[attr-defined]
        assert len(bodies) == 1
    with app.extensions["gateway.database"].begin() as session:
        assert session.scalar(select(func.count()).select_from(InboundRow)) == ROUNDS
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == ROUNDS
        assert session.scalar(select(func.count()).select_from(Suppression)) == ROUNDS
