"""The pre-send check: may a sender text a number (about a topic), and which suppressions say no."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Select, bindparam, or_, select
from sqlalchemy.orm import Session

from storage.consent.apply import identities
from storage.models import ALL_TOPICS, GLOBAL_SCOPE, ConsentEvent, Suppression
from storage.types import utcnow


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


