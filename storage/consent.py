"""Every query of the consent path: inbound messages, the suppression list and the consent ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import GLOBAL_SCOPE, ConsentEvent, DeliveryReport, ReceivedMessage, Subject, Suppression

Action = Literal["opt_out", "opt_in"]


@dataclass(frozen=True)
class ConsentChange:
    """A request to change one number's consent for some sender scopes, with where it came from."""

    number: str
    scopes: tuple[str, ...]
    action: Action
    source: str
    inbound_message_id: int | None = None
    delivery_report_id: int | None = None
    actor: str | None = None
    explanation: dict[str, Any] = field(default_factory=dict)
    rules_version: str | None = None


@dataclass(frozen=True)
class SuppressionEntry:
    """One suppression row as the API shows it."""

    scope: str
    since: datetime
    source: str
    rule: str | None


@dataclass(frozen=True)
class SuppressionStatus:
    """Whether a number may be texted by a sender, and which suppressions say no."""

    number: str
    sender: str | None
    entries: tuple[SuppressionEntry, ...]

    @property
    def suppressed(self) -> bool:
        return bool(self.entries)


def _insert(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING on both of our backends."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def lock_subject(session: Session, number: str) -> None:
    """Take the per-number row lock that serialises consent changes to one number across workers."""
    session.execute(_insert(session)(Subject).values(number=number).on_conflict_do_nothing())
    # SQLite has no row locks; there BEGIN IMMEDIATE already serialises every writer.
    session.execute(select(Subject.number).where(Subject.number == number).with_for_update())


def find_inbound(session: Session, provider: str, provider_message_id: str) -> ReceivedMessage | None:
    """The stored message for a provider's message id, if this delivery was seen before."""
    return session.scalars(
        select(ReceivedMessage).where(
            ReceivedMessage.provider == provider,
            ReceivedMessage.provider_message_id == provider_message_id,
        )
    ).one_or_none()


def add_inbound(session: Session, message: ReceivedMessage) -> ReceivedMessage:
    """Store an inbound message and give it its id."""
    session.add(message)
    session.flush()
    return message


def find_delivery_report(session: Session, provider: str, provider_message_id: str, status: str) -> DeliveryReport | None:
    """The stored status callback, if this one was seen before."""
    return session.scalars(
        select(DeliveryReport).where(
            DeliveryReport.provider == provider,
            DeliveryReport.provider_message_id == provider_message_id,
            DeliveryReport.status == status,
        )
    ).one_or_none()


def add_delivery_report(session: Session, report: DeliveryReport) -> DeliveryReport:
    """Store a status callback and give it its id."""
    session.add(report)
    session.flush()
    return report


def _event(change: ConsentChange, scope: str, changed: bool) -> ConsentEvent:
    explanation = change.explanation
    return ConsentEvent(
        number=change.number,
        sender_scope=scope,
        action=change.action,
        source=change.source,
        changed=changed,
        inbound_message_id=change.inbound_message_id,
        delivery_report_id=change.delivery_report_id,
        rule=explanation.get("rule"),
        tier=explanation.get("tier"),
        score=explanation.get("score"),
        language=explanation.get("language"),
        rules_version=change.rules_version,
        actor=change.actor,
        explanation=explanation,
    )


def apply_change(session: Session, change: ConsentChange) -> list[ConsentEvent]:
    """Apply a consent change under the number's lock and append its ledger events."""
    lock_subject(session, change.number)
    if change.action == "opt_out":
        return _opt_out(session, change)
    return _opt_in(session, change)


def _opt_out(session: Session, change: ConsentChange) -> list[ConsentEvent]:
    events = []
    for scope in change.scopes:
        existing = session.scalars(
            select(Suppression).where(Suppression.number == change.number, Suppression.sender_scope == scope)
        ).one_or_none()
        event = _event(change, scope, changed=existing is None)
        session.add(event)
        session.flush()
        if existing is None:
            session.add(Suppression(number=change.number, sender_scope=scope, source=change.source, event_id=event.id))
        events.append(event)
    session.flush()
    return events


def _opt_in(session: Session, change: ConsentChange) -> list[ConsentEvent]:
    # START lifts the sender's own suppressions and a STOPALL-style global one: the person has
    # just asked, in writing, to hear from this sender again.
    scopes = (*change.scopes, GLOBAL_SCOPE)
    lifted = session.scalars(
        select(Suppression.sender_scope).where(Suppression.number == change.number, Suppression.sender_scope.in_(scopes))
    ).all()
    events = [_event(change, scope, changed=True) for scope in lifted]
    if not events:
        events = [_event(change, change.scopes[0], changed=False)]
    session.add_all(events)
    session.execute(
        delete(Suppression).where(Suppression.number == change.number, Suppression.sender_scope.in_(scopes))
    )
    session.flush()
    return events


def suppression_status(session: Session, number: str, sender: str | None) -> SuppressionStatus:
    """May `sender` text `number`? Without a sender, any suppression at all counts."""
    query = (
        select(Suppression, ConsentEvent.rule)
        .join(ConsentEvent, ConsentEvent.id == Suppression.event_id)
        .where(Suppression.number == number)
        .order_by(Suppression.created_at, Suppression.id)
    )
    if sender is not None:
        query = query.where(Suppression.sender_scope.in_((sender, GLOBAL_SCOPE)))
    entries = tuple(
        SuppressionEntry(scope=row.sender_scope, since=row.created_at, source=row.source, rule=rule)
        for row, rule in session.execute(query)
    )
    return SuppressionStatus(number=number, sender=sender, entries=entries)


def events_for(session: Session, number: str) -> Sequence[ConsentEvent]:
    """The ledger of one number, oldest first."""
    return session.scalars(select(ConsentEvent).where(ConsentEvent.number == number).order_by(ConsentEvent.id)).all()
