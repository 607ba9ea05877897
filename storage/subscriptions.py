"""Double opt-in: a JOIN makes a pending subscription, YES within the window confirms it.

States per (number, sender scope, topic): no row (never asked), `pending` (asked to confirm until
`expires_at`), `subscribed`. An opt-out ends both (the row is deleted and the ledger says why). A
YES with nothing pending, or after the window, changes nothing and is recorded as such. What each
change does is the planner's (storage/consent/planner.py); this module holds the table and its view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base
from storage.types import UTCDateTime, utcnow

Status = Literal["pending", "subscribed"]


class Subscription(Base):
    """A number's subscription to a sender scope and topic: pending confirmation, or confirmed."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("number", "sender_scope", "topic", name="uq_subscription_number_scope_topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    sender_scope: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_id: Mapped[int] = mapped_column(ForeignKey("consent_events.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class SubscriptionState:
    """One subscription as callers see it; `pending` past `expires_at` reads as expired."""

    scope: str
    topic: str
    status: Status | Literal["expired"]
    expires_at: datetime | None
    since: datetime


def states(session: Session, number: str, now: datetime | None = None) -> list[SubscriptionState]:
    """Every subscription of a number, with pending ones past their window shown as expired."""
    now = now or utcnow()
    return [
        SubscriptionState(
            scope=row.sender_scope, topic=row.topic,
            status="expired" if row.status == "pending" and row.expires_at and row.expires_at <= now else row.status,  # type: ignore[arg-type]
            expires_at=row.expires_at, since=row.updated_at,
        )
        for row in session.scalars(select(Subscription).where(Subscription.number == number).order_by(Subscription.id))
    ]
