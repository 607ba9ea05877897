"""Typed ORM models: inbound messages, delivery reports, the suppression list and the consent ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.crypto import EncryptedJSON, EncryptedText
from storage.types import UTCDateTime, utcnow

GLOBAL_SCOPE = "*"
"""The sender scope of a STOPALL-style suppression: every sender of this deployment."""
ALL_TOPICS = "*"
"""The topic of a suppression that covers every kind of message from its sender scope."""


class Base(DeclarativeBase):
    """Declarative base; the schema itself comes from the Alembic migrations."""


class Subject(Base):
    """One row per phone number: the row a consent change locks so changes to one number serialise."""

    __tablename__ = "subjects"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundRow(Base):
    """An inbound SMS as the provider delivered it, with the decision taken and the reply given."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("provider", "provider_message_id", name="uq_inbound_provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_message_id: Mapped[str] = mapped_column(String(64))
    from_address: Mapped[str] = mapped_column(String(32), index=True)
    from_kind: Mapped[str] = mapped_column(String(16))
    to_address: Mapped[str] = mapped_column(String(32))
    sender_scope: Mapped[str] = mapped_column(String(64))
    # Encrypted at rest (storage/crypto.py): the body and the decision, which repeats it normalised.
    body: Mapped[str] = mapped_column(EncryptedText)
    intent: Mapped[str] = mapped_column(String(16))
    decision: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    rules_version: Mapped[str] = mapped_column(String(64))
    reply: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryReport(Base):
    """A provider's status callback that changed consent (for example Twilio error 21610)."""

    __tablename__ = "delivery_reports"
    __table_args__ = (
        UniqueConstraint("provider", "provider_message_id", "status", name="uq_delivery_provider_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_message_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(32))
    sender_scope: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentEvent(Base):
    """One append-only ledger entry: a request to change a number's consent, and whether it changed."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_number", "number", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    sender_scope: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(64), default=ALL_TOPICS)
    action: Mapped[str] = mapped_column(String(16))
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(32))
    changed: Mapped[bool] = mapped_column(Boolean)
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    delivery_report_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_reports.id"))
    rule: Mapped[str | None] = mapped_column(String(200))
    tier: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str | None] = mapped_column(String(16))
    rules_version: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(200))
    explanation: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The hash chain (storage/ledger.py), over values that survive erasure: the number's keyed hash
    # and a keyed digest of the explanation; NULL only on events written before the chain existed.
    subject: Mapped[str | None] = mapped_column(String(64))
    content_digest: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class Suppression(Base):
    """A number that must not be texted by a sender scope ('*': every sender) about a topic ('*': any).

    A row with `until` set is a pause: it stops counting by itself once that time has passed.
    """

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("number", "sender_scope", "topic", name="uq_suppression_number_scope_topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    sender_scope: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(64), default=ALL_TOPICS)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(32))
    # The consent event that made the row; no foreign key (a million-row import paid for it row by
    # row): `ledger.verify_chain` checks the link instead (migration 0008).
    event_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
