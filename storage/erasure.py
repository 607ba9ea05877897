"""Erasure on request: remove a person's messages and number, keep them blocked, keep the chain verifiable.

The number is replaced everywhere by its pseudonym (`h:` and 30 hex digits of its keyed hash), so
the suppression list still finds it when a sender checks or scrubs the number, but nobody reading
the database can. Message bodies, decisions and free-text comments are emptied. A global opt-out
and an `erase` event are appended to the ledger; the chain only covers values that survive this.
The reason given is kept encrypted in the event's explanation, with the number cut out of it.

`erase_number` does the whole job: the transaction, then this machine's spool (its messages from
the number are deleted; the global opt-out covers any opt-out among them) and, on SQLite, a
truncating WAL checkpoint, so the old pages with the number leave the -wal file too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, delete, select, update
from sqlalchemy.orm import Session

from storage import crypto, ledger
from storage.db import Database
from storage.consent import ConsentChange, apply_change, lock_subject
from storage.links import LinkChoice, UnsubscribeLink
from storage.limits import AutoReply
from storage.models import ALL_TOPICS, GLOBAL_SCOPE, ConsentEvent, DeliveryReport, InboundRow, Subject, Suppression
from storage.questions import ScopeQuestion
from storage.local_spool import Spool
from storage.subscriptions import Subscription
from storage.types import utcnow

ERASED_EXPLANATION = {"erased": True}
ERASED_NUMBER = "[erased number]"
"""What the number becomes in the erasure's own reason text."""
MAX_REASON = 500
_SEPARATORS = r"[\s().\-/]*"

# What erasure does to each table holding a number: (table, number column, other values to set).
# Vocabulary as data: a new table with personal data gets a row here (tests/storage/test_erasure.py
# reads every text column of every table afterwards, so a forgotten one fails there).
# cast: SQLAlchemy types a model's `__table__` as any FromClause (a model may map a join or select).
PSEUDONYMISE: list[tuple[Table, str, dict[str, object]]] = [
    (cast(Table, InboundRow.__table__), "from_address", {"body": "", "decision": {}}),
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
    # The reason is free text staff typed (it may quote the number): encrypted, and the number cut out.
    [event] = ledger.append(session, [ConsentEvent(
        number=pseudonym, subject=subject, sender_scope=GLOBAL_SCOPE, topic=ALL_TOPICS, action="erase", source="erasure",
        changed=True, actor=actor, rule=None, explanation={"reason": without_number(reason[:MAX_REASON], number)},
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


def erase_number(database: Database, number: str, actor: str, reason: str, spool: Spool | None = None) -> ErasureReport:
    """`erase` in its own transaction, then this machine's spooled messages from the number and the SQLite WAL."""
    with database.begin() as session:
        report = erase(session, number, actor, reason)
    rows = dict(report.rows)
    if spool is not None:
        # After the commit: had the erasure failed, a spooled STOP must still be there to replay.
        rows["spooled_messages"] = spool.forget(number)
        spool.checkpoint()
    if database.dialect == "sqlite":
        raw = database.engine.raw_connection()
        try:
            # The driver's own connection, outside a transaction (a checkpoint cannot run inside one);
            # best effort: a long reader elsewhere can keep the last frames until the next checkpoint.
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()
    return replace(report, rows=rows)


def erased_after(db: Session | Connection, number: str, when: datetime) -> bool:
    """Whether `number` was erased at or after `when`: a message it sent before must not be stored after."""
    pseudonym = crypto.current().pseudonym(number)
    found = db.execute(select(ConsentEvent.id).where(
        ConsentEvent.number == pseudonym, ConsentEvent.action == "erase", ConsentEvent.created_at >= when).limit(1)).first()
    return found is not None


def without_number(text: str, number: str) -> str:
    """`text` with `number` (E.164) cut out in any format: +1 (415) 555-0166, 415.555.0166, 0044 7700 ..., 5550166."""
    digits = number.lstrip("+")
    # The last seven digits must be there; each digit before them may be, from the right, with
    # separators anywhere; a leading +, 00 or trunk 0 goes too. Not part of a longer digit run.
    prefix = ""
    for digit in digits[:-7]:
        prefix = f"(?:{prefix}{digit}{_SEPARATORS})?"
    pattern = rf"(?<!\d)(?:\+|00|0)?\(?{prefix}{_SEPARATORS.join(digits[-7:])}(?!\d)"
    return re.sub(pattern, ERASED_NUMBER, text)
