"""The compliance dashboard's queries: why and how people leave, over time, and the fuzzy-tier matches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, cast, func, select
from sqlalchemy.orm import Session

from storage.links import LinkChoice
from storage.models import ConsentEvent, InboundRow

SERIES = ("opt_out", "opt_in", "pause")
"""The ledger actions the time chart counts (people per day whose consent changed that way).

Not `narrow` (consent.NARROW): an opt-out that the person narrowed to some topics is no re-subscribe."""


@dataclass(frozen=True)
class Day:
    """People whose consent changed on one day (UTC), per action."""

    day: date
    counts: dict[str, int]


@dataclass(frozen=True)
class FuzzyMatch:
    """An inbound message the fuzzy tier alone read as an opt-out."""

    message_id: int
    number: str
    sender_scope: str
    body: str
    rule: str | None
    score: float | None
    language: str | None
    received_at: datetime


def _utc_day(session: Session, column: Any) -> Any:
    # SQLite stores naive UTC text; PostgreSQL keeps timestamptz, whose date depends on the session zone.
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def daily(session: Session, since: datetime) -> list[Day]:
    """Per UTC day since `since`: how many numbers opted out, came back, or paused."""
    day = _utc_day(session, ConsentEvent.created_at).label("day")
    rows = session.execute(
        select(day, ConsentEvent.action, func.count(func.distinct(ConsentEvent.number)))
        .where(ConsentEvent.created_at >= since, ConsentEvent.changed.is_(True), ConsentEvent.action.in_(SERIES))
        .group_by(day, ConsentEvent.action)
    ).all()
    days: dict[date, dict[str, int]] = {}
    for value, action, count in rows:
        days.setdefault(_as_date(value), dict.fromkeys(SERIES, 0))[action] = int(count)
    return [Day(key, days[key]) for key in sorted(days)]


BREAKDOWN = ("opt_out", "opt_in")
"""The actions broken down by language and by rule: opt-outs and re-subscribes."""

Breakdown = list[tuple[str, dict[str, int]]]


def _breakdown(session: Session, since: datetime, *keys: Any) -> Breakdown:
    """Changed opt-out and opt-in events per key (several keys are joined with ' · '), most first."""
    rows = session.execute(
        select(*keys, ConsentEvent.action, func.count())
        .where(ConsentEvent.created_at >= since, ConsentEvent.changed.is_(True), ConsentEvent.action.in_(BREAKDOWN))
        .group_by(*keys, ConsentEvent.action)
    ).all()
    found: dict[str, dict[str, int]] = {}
    for *names, action, count in rows:
        label = " · ".join(str(name) for name in names if name)
        found.setdefault(label, dict.fromkeys(BREAKDOWN, 0))[action] += int(count)
    return sorted(found.items(), key=lambda item: (-sum(item[1].values()), item[0]))


def by_language(session: Session, since: datetime) -> Breakdown:
    """Opt-outs and re-subscribes per language of the message or page ('unknown' when none was recognised)."""
    return _breakdown(session, since, func.coalesce(ConsentEvent.language, "unknown"))


def by_rule(session: Session, since: datetime) -> Breakdown:
    """Opt-outs and re-subscribes per matching tier (or other source: link_page, ...) and keyword."""
    return _breakdown(session, since, func.coalesce(ConsentEvent.tier, ConsentEvent.source), ConsentEvent.rule)


def by_reason(session: Session, since: datetime) -> list[tuple[str, int]]:
    """Reasons given on the link page (one per link), most first; 'not given' when left empty."""
    reason = func.coalesce(LinkChoice.reason, "not given")
    rows = session.execute(
        select(reason, func.count())
        .where(LinkChoice.choice == "reason", LinkChoice.created_at >= since)
        .group_by(reason)
        .order_by(func.count().desc())
    ).all()
    return [(str(name), int(count)) for name, count in rows]


def latest(session: Session, limit: int = 25) -> Sequence[ConsentEvent]:
    """The newest ledger events, newest first."""
    return session.scalars(select(ConsentEvent).order_by(ConsentEvent.id.desc()).limit(limit)).all()


def _fuzzy_ids() -> Any:
    return select(ConsentEvent.inbound_message_id).where(
        ConsentEvent.tier == "fuzzy", ConsentEvent.inbound_message_id.is_not(None)
    )


def _match(message: InboundRow) -> FuzzyMatch:
    decision = message.decision or {}
    return FuzzyMatch(
        message_id=message.id, number=message.from_address, sender_scope=message.sender_scope, body=message.body,
        rule=decision.get("rule"), score=decision.get("score"), language=decision.get("language"),
        received_at=message.received_at,
    )


def fuzzy_matches(session: Session, since: datetime, limit: int = 100) -> list[FuzzyMatch]:
    """Messages whose consent change came from the fuzzy tier only, newest first."""
    rows = session.scalars(
        select(InboundRow)
        .where(InboundRow.id.in_(_fuzzy_ids()), InboundRow.received_at >= since)
        .order_by(InboundRow.id.desc())
        .limit(limit)
    )
    return [_match(row) for row in rows]


def fuzzy_match(session: Session, message_id: int) -> FuzzyMatch | None:
    """One fuzzy-tier message by id; None when there is none or it was not a fuzzy match."""
    row = session.scalars(
        select(InboundRow).where(InboundRow.id == message_id, InboundRow.id.in_(_fuzzy_ids()))
    ).first()
    return _match(row) if row is not None else None
