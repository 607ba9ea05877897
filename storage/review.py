"""The review queue's marks: staff saying a classification was wrong (a false positive)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base
from storage.types import UTCDateTime, utcnow


class FalsePositiveMark(Base):
    """Staff said a fuzzy match was wrong; whether the keyword file took the new example, and why not."""

    __tablename__ = "false_positive_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_message_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id"), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    accepted: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text)
    rules_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def add_mark(session: Session, mark: FalsePositiveMark) -> FalsePositiveMark:
    """Record a staff member's false-positive mark and its outcome."""
    session.add(mark)
    session.flush()
    return mark


def marks_for(session: Session, message_ids: Sequence[int]) -> dict[int, FalsePositiveMark]:
    """The mark that stands for each of these inbound messages: the accepted one, else the latest."""
    if not message_ids:
        return {}
    rows = session.scalars(
        select(FalsePositiveMark)
        .where(FalsePositiveMark.inbound_message_id.in_(list(message_ids)))
        .order_by(FalsePositiveMark.accepted, FalsePositiveMark.id)
    )
    # An accepted mark wins over later refusals (a second click finds the example already there).
    return {row.inbound_message_id: row for row in rows}
