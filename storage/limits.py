"""Auto-reply limits kept in the database, so every worker and machine sees the same counts.

An auto-responder that answers our confirmations must not start an endless exchange, and one
person must not get the same confirmation over and over. Each reply we give a number is recorded;
before the next one, its recent replies are counted. The caller holds the number's row lock
(`consent.lock_subject`), so concurrent deliveries for one number count one after the other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Index, String, delete, select
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


def decide(sent: Sequence[tuple[str, datetime]], fingerprint: str, policy: ReplyPolicy, now: datetime,
           opt_out: bool = False) -> Withheld | None:
    """Whether the limits withhold a reply (its `digest`) from a number that was sent `sent` (digest, time) before.

    An opt-out's confirmation (`opt_out`) is never withheld by the rate limit: CTIA wants every
    opt-out acknowledged. Only the repeat limit holds one back: the same confirmation again within
    the repeat interval, which the person has just been sent.
    """
    if policy.repeat_interval and any(d == fingerprint and at > now - policy.repeat_interval for d, at in sent):
        return "repeat"
    if not opt_out and policy.max_replies and policy.window and sum(1 for _, at in sent if at > now - policy.window) >= policy.max_replies:
        return "rate"
    return None


def keep_for(policy: ReplyPolicy) -> timedelta:
    """How long a reply counts for any limit: older rows are dropped when the number is next answered."""
    return max(policy.window, policy.repeat_interval)


def take_reply(session: Session, number: str, text: str, policy: ReplyPolicy, now: datetime | None = None,
               opt_out: bool = False) -> Withheld | None:
    """Record a reply to `number` if the limits allow it; else say which limit withholds it (`decide`)."""
    now = now or utcnow()
    cutoff = now - keep_for(policy)
    sent = session.execute(select(AutoReply.digest, AutoReply.sent_at).where(AutoReply.number == number)).all()
    if any(at < cutoff for _, at in sent):
        session.execute(delete(AutoReply).where(AutoReply.number == number, AutoReply.sent_at < cutoff))
    fingerprint = digest(text)
    withheld = decide([(d, at) for d, at in sent], fingerprint, policy, now, opt_out)
    if withheld is None:
        session.add(AutoReply(number=number, digest=fingerprint, sent_at=now))
    return withheld
