"""Unsubscribe links and the choices people make on the link page (its ledger notes included)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage import ledger
from storage.consent import lock_subject
from storage.models import ALL_TOPICS, Base, ConsentEvent
from storage.types import UTCDateTime, utcnow


class UnsubscribeLink(Base):
    """A minted unsubscribe link: the token carries no number, so the row says whose it is."""

    __tablename__ = "unsubscribe_links"
    __table_args__ = (Index("ix_unsubscribe_links_subject", "number", "sender_scope", "topic"),)

    token: Mapped[str] = mapped_column(String(16), primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    sender_scope: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    expires_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkChoice(Base):
    """One choice made on a link page (unsubscribe, resubscribe, preferences), with its ledger event ids."""

    __tablename__ = "link_choices"
    __table_args__ = (Index("ix_link_choices_subject", "number", "sender_scope", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(ForeignKey("unsubscribe_links.token"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    sender_scope: Mapped[str] = mapped_column(String(64))
    choice: Mapped[str] = mapped_column(String(16))
    topics_dropped: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics_restored: Mapped[list[str]] = mapped_column(JSON, default=list)
    pause_days: Mapped[int | None] = mapped_column(Integer)
    frequency: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    event_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def add_link(session: Session, link: UnsubscribeLink) -> UnsubscribeLink:
    """Store a freshly minted link."""
    session.add(link)
    session.flush()
    return link


def get_link(session: Session, token: str) -> UnsubscribeLink | None:
    """The stored link for a token, revoked or not."""
    return session.get(UnsubscribeLink, token)


def reusable_link(session: Session, number: str, sender: str, topic: str, valid_until: date) -> UnsubscribeLink | None:
    """A live link for the same (number, sender, topic) that stays valid at least until `valid_until`."""
    return session.scalars(
        select(UnsubscribeLink)
        .where(
            UnsubscribeLink.number == number,
            UnsubscribeLink.sender_scope == sender,
            UnsubscribeLink.topic == topic,
            UnsubscribeLink.revoked_at.is_(None),
            UnsubscribeLink.expires_on >= valid_until,
        )
        .order_by(UnsubscribeLink.expires_on.desc())
        .limit(1)
    ).first()


def revoke_links(session: Session, number: str, token: str | None = None, now: datetime | None = None) -> int:
    """Revoke one link of a number, or every live link of it; how many were revoked."""
    query = update(UnsubscribeLink).where(UnsubscribeLink.number == number, UnsubscribeLink.revoked_at.is_(None))
    if token is not None:
        query = query.where(UnsubscribeLink.token == token)
    result: Any = session.execute(query.values(revoked_at=now or utcnow()))
    return int(result.rowcount or 0)


def add_choice(session: Session, choice: LinkChoice) -> LinkChoice:
    """Record a choice made on a link page."""
    session.add(choice)
    session.flush()
    return choice


def last_change(session: Session, token: str) -> LinkChoice | None:
    """The latest consent-changing choice made through one link (its reason rows excluded)."""
    return session.scalars(
        select(LinkChoice)
        .where(LinkChoice.token == token, LinkChoice.choice != "reason")
        .order_by(LinkChoice.id.desc())
        .limit(1)
    ).first()


def set_reason(session: Session, link: UnsubscribeLink, reason: str | None, comment: str | None, language: str | None) -> LinkChoice:
    """Keep one reason per link: a second answer replaces the first rather than counting twice."""
    row = session.scalars(select(LinkChoice).where(LinkChoice.token == link.token, LinkChoice.choice == "reason")).first()
    if row is None:
        row = LinkChoice(token=link.token, number=link.number, sender_scope=link.sender_scope, choice="reason")
        session.add(row)
    row.reason, row.comment, row.language, row.created_at = reason, comment, language, utcnow()
    session.flush()
    return row


def append_note(session: Session, link: UnsubscribeLink, action: str, changed: bool, language: str | None,
                explanation: dict[str, Any]) -> ConsentEvent:
    """A ledger event for a link-page choice that lifts or adds no suppression (a frequency, a reason)."""
    lock_subject(session, link.number)
    event = ConsentEvent(
        number=link.number, sender_scope=link.sender_scope, topic=ALL_TOPICS, action=action, until=None,
        source="link_page", changed=changed, language=language, explanation=explanation,
    )
    return ledger.append(session, [event])[0]


def current_frequency(session: Session, number: str, sender: str) -> str | None:
    """The latest message frequency a number asked a sender for on a link page, if any."""
    return session.scalars(
        select(LinkChoice.frequency)
        .where(LinkChoice.number == number, LinkChoice.sender_scope == sender, LinkChoice.frequency.is_not(None))
        .order_by(LinkChoice.id.desc())
        .limit(1)
    ).first()
