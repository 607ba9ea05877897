"""Erasure on request: remove a person's messages and number, keep them blocked, keep the chain verifiable.

The number is replaced everywhere by its pseudonym (`h:` and 30 hex digits of its keyed hash), so
the suppression list still finds it when a sender checks or scrubs the number, but nobody reading
the database can. Message bodies, decisions and free-text comments are emptied. A global opt-out
and an `erase` event are appended to the ledger; the chain only covers values that survive this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, update
from sqlalchemy.orm import Session

from storage import crypto, ledger
from storage.consent import ConsentChange, apply_change, lock_subject
from storage.feedback import LinkChoice, UnsubscribeLink
from storage.limits import AutoReply
from storage.models import ALL_TOPICS, GLOBAL_SCOPE, ConsentEvent, DeliveryReport, ReceivedMessage, Subject, Suppression
from storage.questions import ScopeQuestion
from storage.subscriptions import Subscription
from storage.types import utcnow

ERASED_EXPLANATION = {"erased": True}

# What erasure does to each table holding a number: (table, number column, other values to set).
# Vocabulary as data: a new table with personal data gets a row here (tests/storage/test_erasure.py
# reads every text column of every table afterwards, so a forgotten one fails there).
# cast: SQLAlchemy types a model's `__table__` as any FromClause (a model may map a join or select).
PSEUDONYMISE: list[tuple[Table, str, dict[str, object]]] = [
    (cast(Table, ReceivedMessage.__table__), "from_address", {"body": "", "decision": {}}),
    (cast(Table, ConsentEvent.__table__), "number", {"explanation": ERASED_EXPLANATION}),
    (cast(Table, Suppression.__table__), "number", {}),
    (cast(Table, DeliveryReport.__table__), "recipient", {}),
    (cast(Table, UnsubscribeLink.__table__), "number", {}),
    (cast(Table, LinkChoice.__table__), "number", {"comment": None}),
]
DELETE: list[tuple[Table, str]] = [
    (cast(Table, Subject.__table__), "number"),
    (cast(Table, Subscription.__table__), "number"),
    (cast(Table, AutoReply.__table__), "number"),
    (cast(Table, ScopeQuestion.__table__), "number"),
]


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure changed: the subject hash that stands for the number, and rows per table."""

    subject: str
    pseudonym: str
    event_id: int
    rows: dict[str, int] = field(default_factory=dict)


def erase(session: Session, number: str, actor: str, reason: str, now: datetime | None = None) -> ErasureReport:
    """Erase `number` (E.164): block it for every sender, pseudonymise or delete its rows, record it."""
    now = now or utcnow()
    keyring = crypto.current()
    subject, pseudonym = keyring.digest(number), keyring.pseudonym(number)
    lock_subject(session, number)
    # Blocked for good, whoever asks: the ledger says so before the number disappears.
    apply_change(session, ConsentChange(number=number, scopes=(GLOBAL_SCOPE,), action="opt_out", source="erasure", actor=actor))
    [event] = ledger.append(session, [ConsentEvent(
        number=pseudonym, subject=subject, sender_scope=GLOBAL_SCOPE, topic=ALL_TOPICS, action="erase", source="erasure",
        changed=True, actor=actor, rule=reason[:200], explanation={},
    )])
    rows: dict[str, int] = {}
    for table, column, values in PSEUDONYMISE:
        result = session.execute(update(table).where(table.c[column] == number).values({column: pseudonym, **values}))
        rows[table.name] = result.rowcount or 0  # type: ignore[attr-defined]
    session.execute(update(UnsubscribeLink).where(UnsubscribeLink.number == pseudonym, UnsubscribeLink.revoked_at.is_(None))
                    .values(revoked_at=now))
    for table, column in DELETE:
        result = session.execute(delete(table).where(table.c[column] == number))
        rows[table.name] = result.rowcount or 0  # type: ignore[attr-defined]
    session.expire_all()
    return ErasureReport(subject=subject, pseudonym=pseudonym, event_id=event.id, rows=rows)
