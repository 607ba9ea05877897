"""Dashboard sessions kept on the server, and failed sign-ins counted for throttling.

A session row is what a dashboard cookie stands for: the cookie carries a random session id,
the row only its SHA-256 (the id is 256 random bits, so a keyed hash adds nothing) and the hash
of the staff token it was opened with. Logout deletes the row, so a copied cookie stops working
at once; a row past `expires_at` counts for nothing and is deleted by the next sign-in.

A failure row is one failed sign-in: the client's address as a keyed hash (never the address)
and the time. Every worker and machine reads and writes the same rows, so they agree on the
count; the check and the insert are not one atomic step, so a burst of parallel guesses can
overshoot a limit by the number of requests in flight, which is harmless against random tokens.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base
from storage.types import UTCDateTime, utcnow


class DashboardSession(Base):
    """An open staff session: the hash of its id, of the token it was opened with, and when it ends."""

    __tablename__ = "dashboard_sessions"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LoginFailure(Base):
    """One failed dashboard sign-in: the client as a keyed hash of its address, and when."""

    __tablename__ = "dashboard_login_failures"
    __table_args__ = (Index("ix_dashboard_login_failures_client", "client", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def open_session(session: Session, session_hash: str, token_hash: str, lifetime: timedelta,
                 now: datetime | None = None) -> None:
    """Store a new session, and drop the ones that have expired."""
    now = now or utcnow()
    session.execute(delete(DashboardSession).where(DashboardSession.expires_at <= now))
    session.add(DashboardSession(session_hash=session_hash, token_hash=token_hash, created_at=now,
                                 expires_at=now + lifetime))
    session.flush()


def session_token(session: Session, session_hash: str, now: datetime | None = None) -> str | None:
    """The token hash of a live session, None when there is no such session or it has expired."""
    return session.scalars(
        select(DashboardSession.token_hash)
        .where(DashboardSession.session_hash == session_hash, DashboardSession.expires_at > (now or utcnow()))
    ).first()


def close_session(session: Session, session_hash: str) -> None:
    """End a session (logout): its cookie, and every copy of it, stops working."""
    session.execute(delete(DashboardSession).where(DashboardSession.session_hash == session_hash))


def record_failure(session: Session, client: str, window: timedelta, now: datetime | None = None) -> None:
    """Count one failed sign-in of `client`; failures older than the window are dropped."""
    now = now or utcnow()
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - window))
    session.add(LoginFailure(client=client, failed_at=now))
    session.flush()


def _wait(session: Session, limit: int, window: timedelta, now: datetime, *where: Any) -> float:
    """Seconds until fewer than `limit` of the matching failures fall in the window (0: fewer already)."""
    # The limit-th newest failure in the window: once it is older than the window, one more try is allowed.
    newest = session.scalars(
        select(LoginFailure.failed_at)
        .where(LoginFailure.failed_at > now - window, *where)
        .order_by(LoginFailure.failed_at.desc())
        .limit(limit)
    ).all()
    return (newest[-1] + window - now).total_seconds() if len(newest) >= limit else 0.0


def retry_after(session: Session, client: str, per_client: int, overall: int, window: timedelta,
                now: datetime | None = None) -> int:
    """Whole seconds `client` must wait before trying again (0: it may try now): its own limit, then everyone's."""
    now = now or utcnow()
    waits = (_wait(session, per_client, window, now, LoginFailure.client == client),
             _wait(session, overall, window, now))
    longest = max(waits)
    return max(1, math.ceil(longest)) if longest > 0 else 0
