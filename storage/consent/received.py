"""The stored inbound messages and delivery reports, looked up by the provider's id (retries)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Base, DeliveryReport, InboundRow

T = TypeVar("T", bound=Base)


def _one(session: Session, model: type[T], **where: str) -> T | None:
    """The stored row of `model` with these column values, if there is one (they form a unique key)."""
    return session.scalars(select(model).filter_by(**where)).one_or_none()


def _add(session: Session, row: T) -> T:
    """Store a row and give it its id."""
    session.add(row)
    session.flush()
    return row


def find_inbound(session: Session, provider: str, provider_message_id: str) -> InboundRow | None:
    """The stored message for a provider's message id, if this delivery was seen before."""
    return _one(session, InboundRow, provider=provider, provider_message_id=provider_message_id)


def add_inbound(session: Session, message: InboundRow) -> InboundRow:
    """Store an inbound message and give it its id."""
    return _add(session, message)


def find_delivery_report(session: Session, provider: str, provider_message_id: str, status: str) -> DeliveryReport | None:
    """The stored status callback, if this one was seen before."""
    return _one(session, DeliveryReport, provider=provider, provider_message_id=provider_message_id, status=status)


def add_delivery_report(session: Session, report: DeliveryReport) -> DeliveryReport:
    """Store a status callback and give it its id."""
    return _add(session, report)
