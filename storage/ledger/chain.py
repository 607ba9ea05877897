"""The consent ledger's hash chain: append events under one head row, and verify the whole chain.

One global chain, in id order: each event's hash covers the previous event's hash and the event's
own fields, and the single `ledger_head` row holds the last id and hash. Editing a row breaks its
hash, deleting one breaks its successor's link, deleting the newest rows breaks the head. The
chain covers values that survive erasure (the number's keyed hash, a keyed digest of the
explanation), so an erased person's events still verify.

Appending locks the head row (PostgreSQL `FOR UPDATE`; SQLite's BEGIN IMMEDIATE already
serialises writers) and gives events their ids itself, so ids follow the chain; callers take the
head last in their transaction, after their per-number lock, to keep the serialised part short.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, String, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage import crypto
from storage.dbapi import Driver
from storage.dbapi import insert as driven_insert
from storage.models import Base, ConsentEvent, Suppression
from storage.types import utcnow

GENESIS = "0" * 64
"""The previous hash of the first event."""
HEAD_ID = 1
VERIFY_BATCH = 5_000
# The models' Tables: SQLAlchemy types `__table__` as any FromClause (a model may map a join or select).
_EVENTS, _SUPPRESSIONS = cast(Table, ConsentEvent.__table__), cast(Table, Suppression.__table__)


class LedgerHead(Base):
    """The single row that holds the chain's last event id and hash; the lock every append takes."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer)
    # NULL while events written before the chain existed wait to be sealed (`seal_legacy`).
    last_hash: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of a chain check: how many events were checked and the first broken one."""

    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str | None = None
    head_id: int | None = None
    head_hash: str | None = None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="microseconds")


def chain_fields(values: Any) -> dict[str, Any]:
    """The values an event's hash covers (from an event or a row mapping): not the number or explanation."""
    get = values.__getitem__ if hasattr(values, "keys") else partial(getattr, values)
    fields = {name: get(name) for name in _FIELD_NAMES}
    fields["until"], fields["created_at"] = _iso(fields["until"]), _iso(fields["created_at"])
    fields["changed"] = bool(fields["changed"])
    return fields


_FIELD_NAMES = (
    "id", "subject", "sender_scope", "topic", "action", "until", "source", "changed", "inbound_message_id",
    "delivery_report_id", "rule", "tier", "score", "language", "rules_version", "actor", "content_digest",
    "created_at",
)


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """sha256 of the previous hash, a newline and the JSON list of the fields in `_FIELD_NAMES` order."""
    return hash_values(prev_hash, [fields[name] for name in _FIELD_NAMES])


def hash_values(prev_hash: str, values: list[Any]) -> str:
    """`event_hash` on values already in `_FIELD_NAMES` order."""
    return hash_text(prev_hash, _ENCODER.encode(values))


def hash_text(prev_hash: str, encoded: str) -> str:
    """The chain hash of an event whose field list is already JSON-encoded (the bulk import's fast path)."""
    return hashlib.sha256((prev_hash + "\n" + encoded).encode()).hexdigest()


def encode_value(value: Any) -> str:
    """One field value as the chain encodes it."""
    return _ENCODER.encode(value)


def lock_head(session: Session) -> tuple[int, str]:
    """Lock the head row for the rest of the transaction; seal older unchained events first."""
    query = select(LedgerHead.last_id, LedgerHead.last_hash).where(LedgerHead.id == HEAD_ID).with_for_update()
    head = session.execute(query).one_or_none()
    if head is None:
        # The migration makes the row; a table emptied by hand (or by the tests) gets it back here.
        first = session.scalar(select(func.max(ConsentEvent.id)))
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(
            insert(LedgerHead)
            .values(id=HEAD_ID, last_id=first or 0, last_hash=None if first else GENESIS)
            .on_conflict_do_nothing()
        )
        head = session.execute(query).one()
    last_id, last_hash = head
    if last_hash is None:
        last_id, last_hash = seal_legacy(session)
    return last_id, last_hash


def append(session: Session, events: Sequence[ConsentEvent], head: tuple[int, str] | None = None) -> list[ConsentEvent]:
    """Chain and insert `events` in order; the caller's transaction keeps the head locked until commit.

    `head` is what `lock_head` gave a caller that locked it earlier in this transaction (and has
    appended nothing since): it saves locking and reading the row a second time.
    """
    if not events:
        return []
    rows = [{name: getattr(event, name) for name in _SEALED_FROM} for event in events]
    last_id, last_hash = chain_rows(rows, *(head or lock_head(session)))
    for event, row in zip(events, rows):
        for name in _SEALED:
            setattr(event, name, row[name])
    session.add_all(events)
    session.flush()
    session.execute(update(LedgerHead).where(LedgerHead.id == HEAD_ID).values(last_id=last_id, last_hash=last_hash))
    return list(events)


_SEALED = ("id", "subject", "content_digest", "prev_hash", "hash", "created_at")
"""What `chain_rows` gives an event."""
_SEALED_FROM = tuple(dict.fromkeys((*_FIELD_NAMES, "number", "explanation")))


def chain_rows(rows: list[dict[str, Any]], last_id: int, last_hash: str) -> tuple[int, str]:
    """Give events, in order, their ids, keyed hashes and chain hashes after the head; the new head.

    The one place the chain is extended: `append` (ORM events) and `append_driven` (the webhook's
    batches) differ only in how they write the rows.
    """
    keyring = crypto.current()
    for row in rows:
        last_id += 1
        row["id"] = last_id
        if row.get("created_at") is None:
            row["created_at"] = utcnow()
        # A row the webhook prepared brings its keyed hashes (made before the head was locked).
        if row.get("subject") is None:
            row["subject"] = keyring.digest(row["number"])
        explanation = row.get("explanation") or {}
        digest = explanation.digest if isinstance(explanation, crypto.Sealed) else None
        row["content_digest"] = digest or keyring.digest(crypto.canonical_json(explanation))
        row["prev_hash"] = last_hash
        last_hash = row["hash"] = event_hash(last_hash, chain_fields(row))
    return last_id, last_hash


class HeadNotReady(Exception):
    """The head row is missing (a table emptied by hand) or older events wait to be sealed.

    Both are done once by `lock_head`, in a transaction of its own; then the caller tries again.
    """


def append_driven(driver: Driver, rows: list[dict[str, Any]]) -> None:
    """`append_rows` on a driver transaction (the webhook's hot path); HeadNotReady if `lock_head` must run first."""
    lock = "" if not driver.postgresql else " FOR UPDATE"
    head = driver.execute(f"SELECT last_id, last_hash FROM ledger_head WHERE id = ?{lock}", (HEAD_ID,)).fetchone()
    if head is None or head[1] is None:
        raise HeadNotReady
    last_id, last_hash = chain_rows(rows, head[0], head[1])
    # Written with the caller's other writes: the head stays locked until the commit all the same.
    driven_insert(driver, _EVENTS, rows, defer=True)
    driver.defer("UPDATE ledger_head SET last_id = ?, last_hash = ? WHERE id = ?", (last_id, last_hash, HEAD_ID))


def seal_legacy(session: Session) -> tuple[int, str]:
    """Chain the events written before the chain existed (once, after migration 0003); head must be locked."""
    keyring = crypto.current()
    table = _EVENTS
    last_id, last_hash = 0, GENESIS
    for row in _rows(session):
        if row["hash"] is not None:
            last_id, last_hash = row["id"], row["hash"]
            continue
        values = dict(row)
        values["subject"] = keyring.digest(row["number"])
        values["content_digest"] = keyring.digest(crypto.canonical_json(row["explanation"] or {}))
        values["prev_hash"] = last_hash
        values["hash"] = last_hash = event_hash(last_hash, chain_fields(values))
        last_id = row["id"]
        session.execute(
            update(table).where(table.c.id == last_id).values(
                subject=values["subject"], content_digest=values["content_digest"], prev_hash=values["prev_hash"],
                hash=values["hash"],
            )
        )
    session.execute(update(LedgerHead).where(LedgerHead.id == HEAD_ID).values(last_id=last_id, last_hash=last_hash))
    return last_id, last_hash


def _rows(session: Session) -> Iterator[Any]:
    """Every event row in id order, a batch at a time (keyset pagination, bounded memory, no ORM objects)."""
    table = _EVENTS
    after = 0
    while True:
        batch = session.execute(select(table).where(table.c.id > after).order_by(table.c.id).limit(VERIFY_BATCH)).mappings().all()
        if not batch:
            return
        yield from batch
        after = batch[-1]["id"]


def _content_ok(event: Any, keyring: crypto.Keyring, erased: set[str | None]) -> str | None:
    """Why an event's unchained columns disagree with its chained digests, or None."""
    if event["number"].startswith(crypto.PSEUDONYM_PREFIX):
        if event["subject"] not in erased:
            return "number replaced without an erasure event"
        if event["number"] != crypto.pseudonym_of(event["subject"] or ""):
            return "pseudonym does not match the subject hash"
        return None
    if keyring.digest(event["number"]) != event["subject"]:
        return "number does not match the subject hash"
    if keyring.digest(crypto.canonical_json(event["explanation"] or {})) != event["content_digest"]:
        return "explanation does not match its digest"
    return None


def head(session: Session) -> tuple[int, str]:
    """The chain's last event id and hash, to note down outside the database (anchoring)."""
    row = session.execute(select(LedgerHead.last_id, LedgerHead.last_hash)).one_or_none()
    return (row[0], row[1] or GENESIS) if row else (0, GENESIS)


def verify_chain(session: Session) -> VerifyResult:
    """Recompute the whole chain; report the first event whose hash, link or contents do not hold."""
    keyring = crypto.current()
    head_id, head_hash = head(session)
    erased = set(session.scalars(select(ConsentEvent.subject).where(ConsentEvent.action == "erase")))
    prev_hash, checked, last_id = GENESIS, 0, 0
    for event in _rows(session):
        broken = None
        if event["hash"] is None:
            broken = "event is not chained (run `flask ledger seal`)"
        elif event["prev_hash"] != prev_hash:
            broken = "previous hash does not match: an event before it was deleted, inserted or changed"
        elif event_hash(prev_hash, chain_fields(event)) != event["hash"]:
            broken = "hash does not match the event's fields: the event was changed"
        else:
            broken = _content_ok(event, keyring, erased)
        if broken:
            return VerifyResult(False, checked, event["id"], broken, head_id, head_hash)
        prev_hash, last_id, checked = event["hash"], event["id"], checked + 1
    if (last_id, prev_hash) != (head_id, head_hash):
        return VerifyResult(
            False, checked, last_id + 1 if last_id < head_id else last_id,
            f"the chain ends at event {last_id} but the head says {head_id}: the newest events were deleted or changed",
            head_id, head_hash,
        )
    broken_link = _suppression_without_its_event(session)
    if broken_link is not None:
        return VerifyResult(False, checked, broken_link[0], broken_link[1], head_id, head_hash)
    return VerifyResult(True, checked, None, None, head_id, head_hash)


def _suppression_without_its_event(session: Session) -> tuple[int, str] | None:
    """The first suppression whose event is missing, or is about another number, sender scope or topic."""
    suppressions, events = _SUPPRESSIONS, _EVENTS
    row = session.execute(
        select(suppressions.c.id, suppressions.c.event_id, suppressions.c.sender_scope, suppressions.c.topic,
               events.c.id.label("found"), events.c.sender_scope.label("event_scope"), events.c.topic.label("event_topic"))
        .outerjoin(events, events.c.id == suppressions.c.event_id)
        .where((events.c.id.is_(None)) | (events.c.number != suppressions.c.number)
               | (events.c.sender_scope != suppressions.c.sender_scope) | (events.c.topic != suppressions.c.topic))
        .order_by(suppressions.c.id).limit(1)
    ).first()
    if row is None:
        return None
    what = f"suppression {row.id} (scope {row.sender_scope}, topic {row.topic})"
    if row.found is None:
        return row.event_id, f"{what} names event {row.event_id}, which is not in the ledger"
    return row.event_id, (f"{what} names event {row.event_id}, which is about another number or about scope "
                          f"{row.event_scope}, topic {row.event_topic}: the suppression list was changed outside the ledger")
