"""Every query of the consent path: inbound messages, the suppression list and the consent ledger."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, TypedDict

from sqlalchemy import Connection, Select, and_, bindparam, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage import crypto, ledger, subscriptions
from storage.types import utcnow
from storage.models import ALL_TOPICS, GLOBAL_SCOPE, ConsentEvent, DeliveryReport, ReceivedMessage, Subject, Suppression

Action = Literal["opt_out", "opt_in", "pause", "join", "confirm"]
DEADLINE_ACTIONS = ("pause", "join")
"""Actions that carry `until`: the end of a pause, the end of a double opt-in's confirmation window."""


@dataclass(frozen=True)
class ConsentChange:
    """A request to change one number's consent for some sender scopes and a topic, with where it came from.

    opt_out: stop (the topic, or everything with topic '*'); pause: stop until `until`;
    opt_in: lift the opt-outs and pauses of that topic (all of them with topic '*');
    join: a pending subscription, to be confirmed before `until`; confirm: confirm a pending one.
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
        if (self.action in DEADLINE_ACTIONS) != (self.until is not None):
            raise ValueError("`until` is given with a pause or a join, and only with those")


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
    """Take the per-number row lock that serialises consent changes to one number across workers.

    The row is keyed by the number's pseudonym, never by the number (`intake._lock` does the same):
    the lock is taken before a delivery is recognised as a retry, so a row keyed by the number
    brought an erased number back whenever the provider retried a delivery from before the erasure.
    """
    key = number if number.startswith(crypto.PSEUDONYM_PREFIX) else crypto.current().pseudonym(number)
    session.execute(_insert(session)(Subject).values(number=key).on_conflict_do_nothing())
    # SQLite has no row locks; there BEGIN IMMEDIATE already serialises every writer.
    session.execute(select(Subject.number).where(Subject.number == key).with_for_update())


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


def identities(number: str) -> tuple[str, str]:
    """The values a number's rows may hold: the number, or its pseudonym once it was erased."""
    return number, crypto.current().pseudonym(number)


def _event(change: ConsentChange, scope: str, topic: str, changed: bool, action: str | None = None,
           **extra: Any) -> ConsentEvent:
    explanation = {**change.explanation, **extra}
    return ConsentEvent(
        number=change.number,
        sender_scope=scope,
        topic=topic,
        action=action or change.action,
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
        created_at=utcnow(),
    )


Write = Callable[[ConsentEvent], None]
"""A state change to make once its ledger event has its id."""


def apply_change(session: Session, change: ConsentChange) -> list[ConsentEvent]:
    """Apply a consent change under the number's lock and append its ledger events."""
    lock_subject(session, change.number)
    # The ledger head before any read: a bulk import holds it while it writes suppressions, and a
    # change that read first would miss the import's rows and then collide with them.
    head = ledger.lock_head(session)
    if change.action == "opt_in":
        planned = _opt_in(session, change)
    elif change.action == "join":
        planned = [_join(session, change, scope) for scope in change.scopes]
    elif change.action == "confirm":
        planned = _confirm(session, change)
    else:
        planned = [_stop(session, change, scope) for scope in change.scopes]
    events = ledger.append(session, [event for event, _ in planned], head)
    for event, write in planned:
        write(event)
    session.flush()
    return events


class _Ended(TypedDict, total=False):
    """What an opt-out adds to its event's explanation when it ends subscriptions."""

    subscriptions_ended: int


def _stop(session: Session, change: ConsentChange, scope: str) -> tuple[ConsentEvent, Write]:
    """An opt-out or a pause for one scope; a pause never weakens an opt-out already there."""
    row = session.scalars(
        select(Suppression).where(
            Suppression.number.in_(identities(change.number)), Suppression.sender_scope == scope,
            Suppression.topic == change.topic,
        )
    ).first()
    ended = 0
    if change.action == "opt_out":
        # An opt-out ends pending and confirmed subscriptions it covers (every scope for STOPALL).
        ended = subscriptions.end(session, change.number, _subscription_scopes(session, change, scope), change.topic)
    extra: _Ended = {"subscriptions_ended": ended} if ended else {}
    if row is None:

        def insert(event: ConsentEvent) -> None:
            session.add(
                Suppression(
                    number=change.number, sender_scope=scope, topic=change.topic, until=change.until,
                    source=change.source, event_id=event.id,
                )
            )

        return _event(change, scope, change.topic, changed=True, **extra), insert
    changed = row.until is not None and row.until != change.until

    def refresh(event: ConsentEvent) -> None:
        if changed:
            row.number, row.until, row.source, row.event_id = change.number, change.until, change.source, event.id
            row.created_at = event.created_at

    return _event(change, scope, change.topic, changed=changed or bool(ended), **extra), refresh


def _subscription_scopes(session: Session, change: ConsentChange, scope: str) -> tuple[str, ...]:
    if scope != GLOBAL_SCOPE:
        return (scope,)
    return tuple({row.sender_scope for row in subscriptions.find_all(session, change.number)})


def _opt_in(session: Session, change: ConsentChange) -> list[tuple[ConsentEvent, Write]]:
    # START lifts the sender's own suppressions and a STOPALL-style global one: the person has
    # just asked, in writing, to hear from this sender again.
    covered = and_(
        Suppression.number.in_(identities(change.number)), Suppression.sender_scope.in_((*change.scopes, GLOBAL_SCOPE))
    )
    if change.topic != ALL_TOPICS:
        covered = and_(covered, Suppression.topic == change.topic)
    lifted = session.execute(select(Suppression.sender_scope, Suppression.topic).where(covered)).all()
    events = [_event(change, scope, topic, changed=True) for scope, topic in lifted]
    if not events:
        events = [_event(change, change.scopes[0], change.topic, changed=False)]
    session.execute(delete(Suppression).where(covered))
    return [(event, _nothing) for event in events]


def _nothing(event: ConsentEvent) -> None:
    """No state to write beyond the ledger event itself."""


def _join(session: Session, change: ConsentChange, scope: str) -> tuple[ConsentEvent, Write]:
    """A JOIN: a pending subscription until `until` (a repeat renews the window); confirmed ones stay."""
    rows = [row for row in subscriptions.find(session, change.number, (scope,), change.topic) if row.topic == change.topic]
    if rows and rows[0].status == "subscribed":
        return _event(change, scope, change.topic, changed=False, state="subscribed"), _nothing

    def pend(event: ConsentEvent) -> None:
        subscriptions.upsert(session, change.number, scope, change.topic, "pending", event.id, change.until, event.created_at)

    return _event(change, scope, change.topic, changed=True, state="pending"), pend


def can_confirm(session: Session, number: str, scopes: Sequence[str], now: datetime | None = None) -> bool:
    """Whether a YES from `number` to these scopes would confirm a pending subscription now."""
    now = now or utcnow()
    return any(row.status == "pending" and row.expires_at is not None and row.expires_at > now
               for row in subscriptions.find(session, number, scopes))


def _confirm(session: Session, change: ConsentChange) -> list[tuple[ConsentEvent, Write]]:
    """YES: confirm the pending subscriptions still inside their window and lift their suppressions.

    A YES with nothing pending, or after the window, changes nothing: YES alone subscribes nobody.
    """
    now = utcnow()
    rows = [row for row in subscriptions.find(session, change.number, change.scopes, change.topic) if row.status == "pending"]
    live = [row for row in rows if row.expires_at is not None and row.expires_at > now]
    if not live:
        why = "expired" if rows else "nothing_pending"
        return [(_event(change, change.scopes[0], change.topic, changed=False, state=why), _nothing)]
    planned: list[tuple[ConsentEvent, Write]] = []
    for row in live:

        def confirm(event: ConsentEvent, row: subscriptions.Subscription = row) -> None:
            row.status, row.expires_at, row.event_id, row.updated_at = "subscribed", None, event.id, event.created_at

        planned.append((_event(change, row.sender_scope, row.topic, changed=True, state="subscribed"), confirm))
        lift = replace(change, scopes=(row.sender_scope,), topic=row.topic, action="opt_in")
        planned += [(event, write) for event, write in _opt_in(session, lift) if event.changed]
    return planned


def _status_query(sender: bool, topic: bool) -> Select[str, str, datetime, datetime | None, str, str | None]:
    """The check's statement, built once: building it again for every check cost more than running it."""
    suppressions, events = Suppression.__table__, ConsentEvent.__table__
    query = (
        select(suppressions.c.sender_scope, suppressions.c.topic, suppressions.c.created_at, suppressions.c.until,
               suppressions.c.source, events.c.rule)
        .join(events, events.c.id == suppressions.c.event_id)
        .where(suppressions.c.number.in_([bindparam("number"), bindparam("pseudonym")]))
        .where(or_(suppressions.c.until.is_(None), suppressions.c.until > bindparam("now")))
        .order_by(suppressions.c.created_at, suppressions.c.id)
    )
    if sender:
        query = query.where(suppressions.c.sender_scope.in_([bindparam("sender"), GLOBAL_SCOPE]))
    if topic:
        query = query.where(suppressions.c.topic.in_([bindparam("topic"), ALL_TOPICS]))
    return query


_STATUS_QUERIES = {(sender, topic): _status_query(sender, topic) for sender in (False, True) for topic in (False, True)}


def suppression_status(
    session: Session | Connection, number: str, sender: str | None, topic: str | None = None, now: datetime | None = None
) -> SuppressionStatus:
    """May `sender` text `number` about `topic`? Without a sender or topic, any suppression counts."""
    # Plain rows from a prepared Core statement: this is the hot read path of every send.
    query = _STATUS_QUERIES[sender is not None, topic is not None]
    plain, pseudonym = identities(number)
    rows = session.execute(query, {"number": plain, "pseudonym": pseudonym, "now": now or utcnow(), "sender": sender, "topic": topic})
    entries = tuple(
        SuppressionEntry(scope=scope, topic=row_topic, since=since, until=until, source=source, rule=rule)
        for scope, row_topic, since, until, source, rule in rows
    )
    return SuppressionStatus(number=number, sender=sender, topic=topic, entries=entries)


def events_for(session: Session, number: str) -> Sequence[ConsentEvent]:
    """The ledger of one number, oldest first."""
    return session.scalars(
        select(ConsentEvent).where(ConsentEvent.number.in_(identities(number))).order_by(ConsentEvent.id)
    ).all()


NARROW = "narrow"
"""The ledger action that lifts a whole opt-out once the person said which topics it covers.

Not `opt_in`: the person did not ask to hear from the sender again, so dashboards and reports,
which count opt_in as a re-subscribe, leave it out."""


def narrow(session: Session, change: ConsentChange, topics: Sequence[str]) -> list[ConsentEvent]:
    """Turn the whole opt-out of `change.scopes` into opt-outs of `topics` (FCC scope clarification).

    `change` is the opt-out (action opt_out, topic '*'). In one ledger append: each topic is stopped
    in each scope, then the scopes' own '*' rows are lifted with action `narrow`; topics stopped
    before stay stopped, and a STOPALL ('*' scope) is never touched.
    """
    if change.action != "opt_out" or change.topic != ALL_TOPICS or GLOBAL_SCOPE in change.scopes or not topics:
        raise ValueError("narrow takes a sender-scoped whole opt-out and at least one topic")
    lock_subject(session, change.number)
    planned = [_stop(session, replace(change, topic=topic), scope) for scope in change.scopes for topic in topics]
    whole = and_(Suppression.number.in_(identities(change.number)), Suppression.sender_scope.in_(change.scopes),
                 Suppression.topic == ALL_TOPICS)
    lifted = session.scalars(select(Suppression.sender_scope).where(whole)).all()
    planned += [(_event(change, scope, ALL_TOPICS, changed=True, action=NARROW, topics_stopped=list(topics)), _nothing)
                for scope in lifted]
    events = ledger.append(session, [event for event, _ in planned])
    for event, write in planned:
        write(event)
    session.execute(delete(Suppression).where(whole))
    session.flush()
    return events
