"""The readiness probe's one statement: can the database answer at all?"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def ping(session: Session) -> None:
    """Run the cheapest round trip; raises the driver's error when the database is unreachable."""
    session.execute(text("SELECT 1"))
