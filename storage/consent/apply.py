"""The general consent path: one change to one number, under its lock, in the caller's session.

Reads the number's rows into a `planner.NumberState`, lets the planner decide, chains its events into
the ledger and writes the effects. Every kind of change comes here (keyword JOIN and YES, links,
staff, carrier reports, erasure); the webhook's STOP and START take the batched path
(storage/consent/batch.py) and imports the bulk one (storage/consent/bulk.py), with the same planner.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage import crypto, ledger
from storage.consent import planner
from storage.consent.planner import ConsentChange, Held, NumberState, Planned, Subscribed
from storage.models import ConsentEvent, Suppression
from storage.models import Subject as SubjectRow
from storage.subscriptions import Subscription
from storage.types import utcnow

_SUPPRESSIONS, _SUBSCRIPTIONS = cast(Table, Suppression.__table__), cast(Table, Subscription.__table__)


def _upsert_ignoring(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING on both of our backends."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def lock_subject(session: Session, number: str) -> None:
    """Take the per-number row lock that serialises consent changes to one number across workers.

    The row is keyed by the number's pseudonym, never by the number (the batch's `_lock` does the
    same): the lock is taken before a delivery is recognised as a retry, so a row keyed by the
    number brought an erased number back whenever the provider retried a delivery from before the erasure.
    """
    key = number if number.startswith(crypto.PSEUDONYM_PREFIX) else crypto.current().pseudonym(number)
    session.execute(_upsert_ignoring(session)(SubjectRow).values(number=key).on_conflict_do_nothing())
    # SQLite has no row locks; there BEGIN IMMEDIATE already serialises every writer.
    session.execute(select(SubjectRow.number).where(SubjectRow.number == key).with_for_update())


def identities(number: str) -> tuple[str, str]:
    """The values a number's rows may hold: the number, or its pseudonym once it was erased."""
    return number, crypto.current().pseudonym(number)


def read_state(session: Session, number: str) -> NumberState:
    """The number's suppressions (under either identity) and subscriptions, in id order."""
    columns = _SUPPRESSIONS.c
    suppressions = [
        Held(row.number, row.sender_scope, row.topic, row.until, row.source, row.event_id, row.created_at, row.id)
        for row in session.execute(select(columns.id, columns.number, columns.sender_scope, columns.topic, columns.until,
                                          columns.source, columns.event_id, columns.created_at)
                                   .where(columns.number.in_(identities(number))).order_by(columns.id))
    ]
    subscriptions = [
        Subscribed(row.sender_scope, row.topic, row.status, row.expires_at, row.event_id, row.updated_at, row.id)
        for row in session.scalars(select(Subscription).where(Subscription.number == number).order_by(Subscription.id))
    ]
    return NumberState(number, suppressions, subscriptions)


def apply_change(session: Session, change: ConsentChange) -> list[ConsentEvent]:
    """Apply a consent change under the number's lock and append its ledger events."""
    lock_subject(session, change.number)
    # The ledger head before any read: a bulk import holds it while it writes suppressions, and a
    # change that read first would miss the import's rows and then collide with them.
    head = ledger.lock_head(session)
    state = read_state(session, change.number)
    planner.apply(state, change, utcnow())
    return _write(session, state, head)


def narrow(session: Session, change: ConsentChange, topics: Sequence[str]) -> list[ConsentEvent]:
    """`planner.narrow` under the number's lock: the whole opt-out of `change.scopes` becomes one of `topics`."""
    lock_subject(session, change.number)
    head = ledger.lock_head(session)
    state = read_state(session, change.number)
    planner.narrow(state, change, topics, utcnow())
    return _write(session, state, head)


def can_confirm(session: Session, number: str, scopes: Sequence[str], now: datetime | None = None) -> bool:
    """Whether a YES from `number` to these scopes would confirm a pending subscription now."""
    return planner.can_confirm(read_state(session, number), scopes, now or utcnow())


def event_id(written: planner.Written) -> int | None:
    """The ledger id a row's event has (a planned one's once it is chained)."""
    return written.id if isinstance(written, Planned) else written


def _write(session: Session, state: NumberState, head: tuple[int, str]) -> list[ConsentEvent]:
    """Chain the state's events, then write its effects: deletes first (a lifted key may be stopped again)."""
    events = ledger.append(session, [ConsentEvent(**planned.columns()) for planned in state.events], head)
    for planned, event in zip(state.events, events):
        planned.id = event.id
    effects = state.effects()
    suppressions, subscriptions = _SUPPRESSIONS.c, _SUBSCRIPTIONS.c
    if effects.deleted:
        session.execute(delete(_SUPPRESSIONS).where(suppressions.id.in_(effects.deleted)))
    if effects.subscriptions_deleted:
        session.execute(delete(_SUBSCRIPTIONS).where(subscriptions.id.in_(effects.subscriptions_deleted)))
    for row in effects.updated:
        session.execute(update(_SUPPRESSIONS).where(suppressions.id == row.id).values(_suppression(row)))
    if effects.inserted:
        session.execute(insert(_SUPPRESSIONS), [_suppression(row) for row in effects.inserted])
    for sub in effects.subscriptions_upserted:
        values = {"number": state.number, "sender_scope": sub.scope, "topic": sub.topic, "status": sub.status,
                  "expires_at": sub.expires_at, "event_id": event_id(sub.event), "updated_at": sub.updated_at}
        if sub.id is None:
            session.execute(insert(_SUBSCRIPTIONS).values(values))
        else:
            session.execute(update(_SUBSCRIPTIONS).where(subscriptions.id == sub.id).values(values))
    session.flush()
    return events


def _suppression(row: Held) -> dict[str, Any]:
    return {"number": row.number, "sender_scope": row.scope, "topic": row.topic, "until": row.until,
            "source": row.source, "event_id": event_id(row.event), "created_at": row.created_at}
