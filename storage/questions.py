"""Opt-out scope questions: after a STOP, which topics does the opt-out cover? (FCC 47 CFR 64.1200(a)(12))

One row per (number, sender scope). A STOP that asks writes it (replacing an older one); it is
open until answered, replaced, closed by another opt-out or STOPALL, or past `expires_at`. While
open, the opt-out it asked about covers everything; an answer narrows it (storage.consent.narrow).
The caller holds the number's lock (`consent.lock_subject`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.consent import identities
from storage.models import ALL_TOPICS, GLOBAL_SCOPE, Base, ConsentEvent, Suppression
from storage.types import UTCDateTime

Outcome = Literal["narrowed", "kept_all", "opt_out", "stopall", "unsent"]
"""How a question closed: answered (narrowed, or kept_all when every topic was named), by a new
opt-out or a STOPALL, or unsent (the reply limits withheld the question itself)."""


class ScopeQuestion(Base):
    """The question a STOP confirmation asked: which of `topics` (numbered from 1) the opt-out covers."""

    __tablename__ = "scope_questions"
    __table_args__ = (UniqueConstraint("number", "sender_scope", name="uq_scope_question_number_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    sender_scope: Mapped[str] = mapped_column(String(64))
    # Every scope the opt-out stopped (a messaging service and its number): an answer narrows them all.
    scopes: Mapped[list[str]] = mapped_column(JSON)
    topics: Mapped[list[str]] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(String(16))
    asked_event_id: Mapped[int] = mapped_column(ForeignKey("consent_events.id"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    answer_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))


def find_open(session: Session, number: str, scope: str) -> ScopeQuestion | None:
    """The question still waiting for this number's answer to this scope (it may have expired)."""
    return session.scalars(
        select(ScopeQuestion).where(
            ScopeQuestion.number == number, ScopeQuestion.sender_scope == scope, ScopeQuestion.closed_at.is_(None)
        )
    ).one_or_none()


def ask(session: Session, number: str, scopes: Sequence[str], topics: Sequence[str], language: str | None,
        asked_event_id: int, now: datetime, expires_at: datetime) -> ScopeQuestion:
    """Open the question for (number, scopes[0]), replacing whatever was asked there before."""
    row = session.scalars(
        select(ScopeQuestion).where(ScopeQuestion.number == number, ScopeQuestion.sender_scope == scopes[0])
    ).one_or_none()
    if row is None:
        row = ScopeQuestion(number=number, sender_scope=scopes[0])
        session.add(row)
    row.scopes, row.topics, row.language = list(scopes), list(topics), language
    row.asked_event_id, row.asked_at, row.expires_at = asked_event_id, now, expires_at
    row.closed_at, row.outcome, row.answer_message_id = None, None, None
    session.flush()
    return row


def close(session: Session, number: str, scope: str | None, outcome: Outcome, now: datetime,
          answer_message_id: int | None = None) -> None:
    """Close the open question of (number, scope), or every one of the number with scope None."""
    query = update(ScopeQuestion).where(ScopeQuestion.number == number, ScopeQuestion.closed_at.is_(None))
    if scope is not None:
        query = query.where(ScopeQuestion.sender_scope == scope)
    session.execute(query.values(closed_at=now, outcome=outcome, answer_message_id=answer_message_id))


def whole_opt_out_event(session: Session, inbound_message_id: int, scope: str) -> int | None:
    """The ledger event of the whole-scope opt-out this inbound message recorded for `scope`."""
    return session.scalars(
        select(ConsentEvent.id).where(
            ConsentEvent.inbound_message_id == inbound_message_id, ConsentEvent.sender_scope == scope,
            ConsentEvent.topic == ALL_TOPICS, ConsentEvent.action == "opt_out",
        ).order_by(ConsentEvent.id.desc())
    ).first()


def still_stands(session: Session, question: ScopeQuestion) -> bool:
    """Whether the opt-out the question asked about is still the one in force, with no STOPALL over it.

    A START, a staff unsuppress or an erasure since then makes a late "2" mean nothing.
    """
    rows = session.execute(
        select(Suppression.sender_scope, Suppression.event_id).where(
            Suppression.number.in_(identities(question.number)), Suppression.topic == ALL_TOPICS,
            Suppression.sender_scope.in_((question.sender_scope, GLOBAL_SCOPE)),
        )
    ).all()
    return (question.sender_scope, question.asked_event_id) in rows and all(scope != GLOBAL_SCOPE for scope, _ in rows)
