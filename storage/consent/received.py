"""The stored inbound messages and delivery reports, looked up by the provider's id (retries)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import DeliveryReport, ReceivedMessage


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
