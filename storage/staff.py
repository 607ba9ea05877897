"""Compliance staff accounts for the dashboard (their sessions: staff_sessions.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base
from storage.types import UTCDateTime, utcnow


class StaffAccount(Base):
    """A named compliance staff member who may open the dashboard; only a hash of the token is kept."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def staff_by_token_hash(session: Session, token_hash: str) -> StaffAccount | None:
    """The enabled staff account whose token hashes to `token_hash`."""
    return session.scalars(
        select(StaffAccount).where(StaffAccount.token_hash == token_hash, StaffAccount.disabled_at.is_(None))
    ).first()


def add_staff(session: Session, name: str, token_hash: str) -> StaffAccount:
    """Create a staff account."""
    account = StaffAccount(name=name, token_hash=token_hash)
    session.add(account)
    session.flush()
    return account


def disable_staff(session: Session, name: str) -> bool:
    """Disable a staff account by name; False when there is no such enabled account."""
    result: Any = session.execute(
        update(StaffAccount)
        .where(StaffAccount.name == name, StaffAccount.disabled_at.is_(None))
        .values(disabled_at=utcnow())
    )
    return bool(result.rowcount)
