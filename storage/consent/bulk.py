"""Suppression-list imports: a million rows in one transaction, each with its chained ledger event, through the planner.

Numbers reach the database in one piece (storage/lists.py: binary COPY on PostgreSQL, executemany
on SQLite). Every row gets its own chained ledger event (source `import`, the batch and line in
`rule`); the planner's rule for a stop (`planner.stop_changes`) decides which rows change, inline for
the rows of numbers without subscriptions and through `planner.apply` for the few with them (an
imported opt-out ends them, as a keyword one does). The suppressions are written from the events by
one INSERT ... SELECT, or nothing is written at all.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.orm import Session

from storage import crypto, ledger
from storage.consent.planner import Subscribed
from storage.ledger import import_chain
from storage.ledger.import_chain import EVENT_COLUMNS, ChainStart, Hashing, Key
from storage.lists import (EVENTS, SUBSCRIPTIONS, SUPPRESSIONS, bulk_cache, collector_paused, copy_rows, db_time, dialect,
                           listed_numbers)
from storage.models import ALL_TOPICS
from storage.types import utcnow

WRITE_CHUNK = 20_000


class ImportRow(NamedTuple):
    """One valid row of an import: its line in the file, the E.164 number, sender scope and topic."""

    line: int
    number: str
    scope: str
    topic: str = ALL_TOPICS


@dataclass(frozen=True)
class ImportResult:
    """What an import did: new suppressions, ones already there, repeated rows, and its ledger events."""

    batch: str
    rows: int
    added: int
    already: int
    repeated: int
    events: int
    """Ledger events: one per (number, scope, topic) the rows cover, a row reaching its brand's every sender."""
    first_event_id: int | None
    last_event_id: int | None


def _existing(session: Session, listed: ColumnElement[str], keys: Collection[Key],
              erased: Collection[str]) -> dict[Key, datetime | None]:
    """The suppressions already held for these keys (in file order: often sorted already), with their `until` (None: permanent).

    Every suppression of an `erased` pseudonym too: which rows of the file are an erased number is
    known only once they are hashed (`ImportChain.events`).
    """
    columns = SUPPRESSIONS.c
    query = (select(columns.number, columns.sender_scope, columns.topic, columns.until)
             .join_from(listed.table, SUPPRESSIONS, columns.number == listed))
    return {(number, scope, topic): until for number, scope, topic, until in session.execute(query)
            if (number, scope, topic) in keys or number in erased}


def _subscribed(session: Session, listed: ColumnElement[str]) -> dict[str, list[Subscribed]]:
    """The subscriptions of the listed numbers, by number, in id order (the planner ends those an opt-out covers)."""
    columns = SUBSCRIPTIONS.c
    found: dict[str, list[Subscribed]] = {}
    for row in session.execute(select(columns.number, columns.sender_scope, columns.topic, columns.status, columns.expires_at,
                                      columns.id).join_from(listed.table, SUBSCRIPTIONS, columns.number == listed)
                               .order_by(columns.id)):
        found.setdefault(row.number, []).append(Subscribed(row.sender_scope, row.topic, row.status, row.expires_at, id=row.id))
    return found


def _end_subscriptions(session: Session, explained: list[tuple[int, dict[str, Any]]], ended: list[int]) -> None:
    """The subscriptions the import ended, and the explanations of the events that ended them (the chain has their digests)."""
    for event_id, explanation in explained:
        sealed = crypto.seal_json(explanation)
        session.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(explanation=sealed, content_digest=sealed.digest))
    if ended:
        session.execute(delete(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id.in_(ended)))


def _erased(session: Session) -> frozenset[str]:
    """The pseudonyms the suppression list holds: numbers erased (and not opted in again since)."""
    number = SUPPRESSIONS.c.number
    return frozenset(session.scalars(select(number).where(number.like(crypto.PSEUDONYM_PREFIX + "%")).distinct()))


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """`items` in lists of `size` (itertools.batched from Python 3.12)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _suppress_events(session: Session, after_id: int, last_id: int, pauses: bool) -> None:
    """Suppress what the changed events after `after_id` stand for: new suppressions, and `pauses` made permanent."""
    events, suppressions = EVENTS.c, SUPPRESSIONS.c
    changed = (events.id > after_id, events.id <= last_id, events.changed.is_(True))
    same_key = (suppressions.number == events.number, suppressions.sender_scope == events.sender_scope,
                suppressions.topic == events.topic)
    new = select(events.number, events.sender_scope, events.topic, events.source, events.id, events.created_at)
    if pauses:
        session.execute(
            update(SUPPRESSIONS).where(*changed, *same_key, suppressions.until.is_not(None))
            .values(until=None, source=events.source, event_id=events.id, created_at=events.created_at)
        )
        new = new.where(~select(suppressions.id).where(*same_key).exists())
    # Without pauses among them, every changed event is a new suppression: a plain insert, the cheapest.
    session.execute(insert(SUPPRESSIONS).from_select(
        ("number", "sender_scope", "topic", "source", "event_id", "created_at"), new.where(*changed)))


def _reached_rows(rows: Sequence[ImportRow], reach: Callable[[str], tuple[str, ...]] | None) -> tuple[dict[Key, ImportRow], int]:
    """One row per (number, scope, topic) the rows reach, at its first line; and how many distinct rows the file holds."""
    unique: dict[Key, ImportRow] = {}
    written = set[Key]()
    covered: dict[str, tuple[str, ...]] = {}
    for row in rows:
        if row[1:] in written:  # (number, scope, topic)
            continue
        written.add(row[1:])
        line, number, scope, topic = row
        scopes = covered.get(scope) or covered.setdefault(scope, reach(scope) if reach else (scope,))
        for each in scopes:
            unique.setdefault((number, each, topic), ImportRow(line, number, each, topic))
    return unique, len(written)


@collector_paused()
def import_suppressions(
    session: Session, rows: Sequence[ImportRow], *, actor: str, source: str = "import", note: str | None = None,
    now: datetime | None = None, reach: Callable[[str], tuple[str, ...]] | None = None,
    explanation: dict[str, str] | None = None,
) -> ImportResult:
    """Suppress every row's (number, scope, topic) with one ledger event each; pauses become permanent.

    `reach` gives the scopes an opt-out of a row's scope covers (its brand's senders: gateway.current.import_reach),
    each with its own event; `explanation` is what every event of the import records of it.
    """
    # UTC, as the database gives it back when the chain is verified.
    now = (now or utcnow()).astimezone(timezone.utc)
    batch = uuid.uuid4().hex[:12]
    bulk_cache(session)
    unique, distinct = _reached_rows(rows, reach)
    # The head first: no consent change commits between reading the list below and writing to it.
    head_id, head_hash = ledger.lock_head(session)
    erased = _erased(session)
    start = ChainStart(head_id, head_hash, batch=batch, source=source, note=note, actor=actor, created=now, erased=erased,
                       explanation=explanation or {})
    # PostgreSQL's server already writes on the other core while this process hashes and streams COPY
    # data to it: a helper would only add its pickling. SQLite writes in this very process.
    helper = dialect(session).name == "sqlite" and len(unique) >= import_chain.HELPER_ROWS
    with Hashing(start, helper=helper) as hashing:
        listed = listed_numbers(session, itertools.chain(map(itemgetter(0), unique), erased))
        existing, subscribed = _existing(session, listed, unique, erased), _subscribed(session, listed)
        constants = {"action": "opt_out", "explanation": str(crypto.seal_json(start.explanation)), "created_at": db_time(session, now),
                     "content_digest": hashing.chain.content_digest}
        # An event changed only because it ended a subscription may find its suppression there already.
        pauses = bool(subscribed) or any(until is not None for until in existing.values())
        # A chunk of events, then their suppressions: the events' pages are still in memory when the
        # suppressions' foreign keys look them up (on PostgreSQL, locking each one).
        after = head_id
        for chunk in _batches(hashing.events(unique.values(), existing, subscribed), WRITE_CHUNK):
            copy_rows(session, "consent_events", EVENT_COLUMNS, chunk, constants)
            _suppress_events(session, after, chunk[-1][0], pauses)
            after = chunk[-1][0]
        _end_subscriptions(session, hashing.chain.explained, hashing.ended)
    if unique:
        session.execute(update(ledger.LedgerHead).where(ledger.LedgerHead.id == ledger.HEAD_ID)
                        .values(last_id=hashing.chain.last_id, last_hash=hashing.chain.last_hash))
    return ImportResult(
        batch=batch, rows=len(rows), added=hashing.chain.added, already=hashing.chain.already, repeated=len(rows) - distinct,
        events=len(unique),
        first_event_id=head_id + 1 if unique else None, last_event_id=hashing.chain.last_id if unique else None,
    )


