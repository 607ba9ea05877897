"""Storage: SQLAlchemy models, every SQL statement, and the Alembic migrations.

consent/ (the planner and the three paths that apply it), ledger/ (the hash chain, imports' events,
evidence, key rotation), models.py and db.py, and one module per other table or concern. Imports
SQLAlchemy and storage only: never gateway or keywords.
"""

from __future__ import annotations

from storage.db import Database
from storage.models import GLOBAL_SCOPE, Base, ConsentEvent, DeliveryReport, InboundRow, Subject, Suppression
from storage import links as links  # noqa: E402  (link tables join Base.metadata)
from storage import review as review  # noqa: E402  (review marks join Base.metadata)
from storage import staff as staff  # noqa: E402  (staff accounts join Base.metadata)
from storage import limits as limits  # noqa: E402  (the auto-reply limits table joins Base.metadata)
from storage import ledger as ledger  # noqa: E402  (the ledger head joins Base.metadata)
from storage import subscriptions as subscriptions  # noqa: E402  (double opt-in subscriptions join Base.metadata)
from storage import questions as questions  # noqa: E402  (opt-out scope questions join Base.metadata)
from storage import staff_sessions as staff_sessions  # noqa: E402  (dashboard sessions and sign-in failures join Base.metadata)

__all__ = [
    "GLOBAL_SCOPE",
    "Base",
    "ConsentEvent",
    "Database",
    "DeliveryReport",
    "InboundRow",
    "Subject",
    "Suppression",
]
