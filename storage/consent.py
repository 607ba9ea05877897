"""Every query of the consent path: inbound messages, the suppression list and the consent ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.types import utcnow
from storage.models import ALL_TOPICS, GLOBAL_SCOPE, ConsentEvent, DeliveryReport, ReceivedMessage, Subject, Suppression

Action = Literal["opt_out", "opt_in", "pause"]


@dataclass(frozen=True)
class ConsentChange:
    """A request to change one number's consent for some sender scopes and a topic, with where it came from.

    opt_out: stop (the topic, or everything with topic '*'); pause: stop until `until`;
    opt_in: lift the opt-outs and pauses of that topic (all of them with topic '*').
    """

    number: str
    scopes: tuple[str, ...]
    action: Action
    source: str
    topic: str = ALL_TOPICS
    until: datetime | None = None
    inbound_message_id: int | None = None
    delivery_report_id: int | None = None
    actor: str | None = None
    explanation: dict[str, Any] = field(default_factory=dict)
    rules_version: str | None = None

    def __post_init__(self) -> None:
        if not self.scopes:
            raise ValueError("a consent change needs at least one sender scope")
        if (self.action == "pause") != (self.until is not None):
            raise ValueError("`until` is given with a pause, and only with a pause")


@dataclass(frozen=True)
class SuppressionEntry:
    """One suppression row as the API shows it."""

    scope: str
    topic: str
    since: datetime
    until: datetime | None
    source: str
    rule: str | None


@dataclass(frozen=True)
class SuppressionStatus:
    """Whether a number may be texted by a sender (about a topic), and which suppressions say no."""

    number: str
    sender: str | None
    topic: str | None
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


def _event(change: ConsentChange, scope: str, topic: str, changed: bool) -> ConsentEvent:
    explanation = change.explanation
    return ConsentEvent(
        number=change.number,
        sender_scope=scope,
        topic=topic,
        action=change.action,
        until=change.until,
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


def _append(session: Session, event: ConsentEvent) -> ConsentEvent:
    session.add(event)
    session.flush()
    return event


def apply_change(session: Session, change: ConsentChange) -> list[ConsentEvent]:
    """Apply a consent change under the number's lock and append its ledger events."""
    lock_subject(session, change.number)
    if change.action == "opt_in":
        return _opt_in(session, change)
    return [_stop(session, change, scope) for scope in change.scopes]


def _stop(session: Session, change: ConsentChange, scope: str) -> ConsentEvent:
    """An opt-out or a pause for one scope; a pause never weakens an opt-out already there."""
    row = session.scalars(
        select(Suppression).where(
            Suppression.number == change.number, Suppression.sender_scope == scope, Suppression.topic == change.topic
        )
    ).one_or_none()
    if row is None:
        event = _append(session, _event(change, scope, change.topic, changed=True))
        session.add(
            Suppression(
                number=change.number, sender_scope=scope, topic=change.topic, until=change.until,
                source=change.source, event_id=event.id,
            )
        )
        return event
    changed = row.until is not None and row.until != change.until
    event = _append(session, _event(change, scope, change.topic, changed=changed))
    if changed:
        row.until, row.source, row.event_id = change.until, change.source, event.id
        row.created_at = utcnow()
    return event


def _opt_in(session: Session, change: ConsentChange) -> list[ConsentEvent]:
    # START lifts the sender's own suppressions and a STOPALL-style global one: the person has
    # just asked, in writing, to hear from this sender again.
    covered = and_(Suppression.number == change.number, Suppression.sender_scope.in_((*change.scopes, GLOBAL_SCOPE)))
    if change.topic != ALL_TOPICS:
        covered = and_(covered, Suppression.topic == change.topic)
    lifted = session.execute(select(Suppression.sender_scope, Suppression.topic).where(covered)).all()
    events = [_event(change, scope, topic, changed=True) for scope, topic in lifted]
    if not events:
        events = [_event(change, change.scopes[0], change.topic, changed=False)]
    session.add_all(events)
    session.execute(delete(Suppression).where(covered))
    session.flush()
    return events


def suppression_status(
    session: Session, number: str, sender: str | None, topic: str | None = None, now: datetime | None = None
) -> SuppressionStatus:
    """May `sender` text `number` about `topic`? Without a sender or topic, any suppression counts."""
    query = (
        select(Suppression, ConsentEvent.rule)
        .join(ConsentEvent, ConsentEvent.id == Suppression.event_id)
        .where(Suppression.number == number)
        .where(or_(Suppression.until.is_(None), Suppression.until > (now or utcnow())))
        .order_by(Suppression.created_at, Suppression.id)
    )
    if sender is not None:
        query = query.where(Suppression.sender_scope.in_((sender, GLOBAL_SCOPE)))
    if topic is not None:
        query = query.where(Suppression.topic.in_((topic, ALL_TOPICS)))
    entries = tuple(
        SuppressionEntry(
            scope=row.sender_scope, topic=row.topic, since=row.created_at, until=row.until, source=row.source, rule=rule
        )
        for row, rule in session.execute(query)
    )
    return SuppressionStatus(number=number, sender=sender, topic=topic, entries=entries)


def events_for(session: Session, number: str) -> Sequence[ConsentEvent]:
    """The ledger of one number, oldest first."""
    return session.scalars(select(ConsentEvent).where(ConsentEvent.number == number).order_by(ConsentEvent.id)).all()
