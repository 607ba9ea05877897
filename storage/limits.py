"""Auto-reply limits kept in the database, so every worker and machine sees the same counts.

An auto-responder that answers our confirmations must not start an endless exchange, and one
person must not get the same confirmation over and over. Each reply we give a number is recorded;
before the next one, its recent replies are counted. The caller holds the number's row lock
(`consent.lock_subject`), so concurrent deliveries for one number count one after the other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base
from storage.types import UTCDateTime, utcnow

Withheld = Literal["rate", "repeat"]


class AutoReply(Base):
    """One automatic reply given to a number: when, and a digest of its text (never the text)."""

    __tablename__ = "auto_replies"
    __table_args__ = (Index("ix_auto_replies_number_sent", "number", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class ReplyPolicy:
    """At most `max_replies` per `window` to one number, and one text at most once per `repeat_interval`.

    A zero count or interval switches that limit off.
    """

    max_replies: int = 5
    window: timedelta = timedelta(hours=1)
    repeat_interval: timedelta = timedelta(minutes=10)


def digest(text: str) -> str:
    """The stored fingerprint of a reply text."""
    return hashlib.sha256(text.encode()).hexdigest()


def take_reply(session: Session, number: str, text: str, policy: ReplyPolicy, now: datetime | None = None) -> Withheld | None:
    """Record a reply to `number` if the limits allow it; else say which limit withholds it."""
    now = now or utcnow()
    keep_for = max(policy.window, policy.repeat_interval)
    # One round trip for both limits and for whether old rows wait to be dropped.
    repeated, recent, stale = session.execute(
        select(
            func.count().filter(AutoReply.digest == digest(text), AutoReply.sent_at > now - policy.repeat_interval),
            func.count().filter(AutoReply.sent_at > now - policy.window),
            func.count().filter(AutoReply.sent_at < now - keep_for),
        ).where(AutoReply.number == number)
    ).one()
    if stale:
        session.execute(delete(AutoReply).where(AutoReply.number == number, AutoReply.sent_at < now - keep_for))
    if policy.repeat_interval and repeated:
        return "repeat"
    if policy.max_replies and policy.window and recent >= policy.max_replies:
        return "rate"
    session.add(AutoReply(number=number, digest=digest(text), sent_at=now))
    return None
