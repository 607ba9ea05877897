"""The webhook's STOP and START in batches: one transaction and a fixed handful of statements per batch.

`record_batch` runs in the transaction of one group commit (storage/consent/intake.py). A batch:

1. takes the per-number locks of every phone sender in it, in sorted order (no deadlock between
   batches of different workers);
2. reads which message ids are already stored (a retry gets the stored answer) and the senders'
   recent auto-replies (limits shared through the database);
3. inserts the new messages (ON CONFLICT DO NOTHING: a racing retry is a duplicate, never an error);
4. reads the senders' suppressions and subscriptions once and lets the planner
   (storage/consent/planner.py) apply every opt-out and opt-in in arrival order in memory (a STOP
   then a START from one number in one batch ends subscribed, with both events in the ledger);
5. chains the events under the ledger head (taken last, so the serialised part stays short) and
   writes the effects; then commits.

JOIN and YES (double opt-in) take the general path (storage/consent/apply.py): they are rare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal, NamedTuple, cast

from sqlalchemy import Table

from storage import crypto, ledger
from storage.consent import planner
from storage.consent.apply import event_id
from storage.consent.planner import Action, ConsentChange, Held, NumberState, Planned, Subscribed
from storage.dbapi import Driver, insert, marks
from storage.limits import AutoReply, ReplyPolicy, Withheld, decide, digest, keep_for
from storage.models import GLOBAL_SCOPE, InboundRow, Subject, Suppression
from storage.types import utcnow

Change = Literal["opt_out", "opt_in"]

@dataclass(frozen=True)
class InboundRecord:
    """One inbound message as the consent path stores it: the decision taken and the reply planned."""

    provider: str
    message_id: str
    from_address: str
    from_kind: str
    to_address: str
    scopes: tuple[str, ...]
    body: str
    intent: str
    decision: dict[str, Any]
    rules_version: str
    reply: str | None
    change: Change | None = None
    """The consent change it asks for (phone senders only); JOIN and YES never come here."""
    stop_all: bool = False
    """An opt-out for every sender (STOPALL), not just `scopes`."""
    limits: ReplyPolicy | None = None
    phone: bool = True

    def columns(self, reply: str | None) -> dict[str, Any]:
        """Its row of inbound_messages, with the reply given (the limits may have withheld the planned one)."""
        return {
            "provider": self.provider, "provider_message_id": self.message_id, "from_address": self.from_address,
            "from_kind": self.from_kind, "to_address": self.to_address, "sender_scope": self.scopes[0],
            "body": self.body, "intent": self.intent, "decision": self.decision, "rules_version": self.rules_version,
            "reply": reply,
        }

    @cached_property
    def sealed(self) -> Prepared:
        """Body and decision encrypted and the sender's keyed hash, made once, before the batch (`Intake.record`).

        A batch on SQLite holds the one write lock of the database, on PostgreSQL the ledger head:
        the encryption and hashing it needs are done before, by each message's own thread.
        """
        subject = crypto.current().digest(self.from_address)
        return Prepared(crypto.seal_text(self.body), crypto.seal_json(self.decision), subject)


class Prepared(NamedTuple):
    """What `InboundRecord.sealed` prepares."""

    body: crypto.Sealed
    decision: crypto.Sealed
    subject: str


@dataclass(frozen=True)
class Recorded:
    """What was stored for a message: its intent and reply, and whether an earlier delivery already had."""

    intent: str
    reply: str | None
    duplicate: bool
    withheld: Withheld | None = None


# The models' Tables: SQLAlchemy types `__table__` as any FromClause (a model may map a join or select).
_subjects = cast(Table, Subject.__table__)
_inbound = cast(Table, InboundRow.__table__)
_suppressions = cast(Table, Suppression.__table__)
_replies = cast(Table, AutoReply.__table__)


@dataclass
class _Replies:
    """The batch's auto-replies: the senders' earlier ones read once, this batch's added as they are taken."""

    now: datetime
    sent: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)
    stale: dict[str, datetime] = field(default_factory=dict)
    """Numbers with replies older than their policy keeps, and that age: those rows are dropped."""

    def take(self, number: str, text: str, policy: ReplyPolicy, opt_out: bool = False) -> Withheld | None:
        """`limits.take_reply` on what the batch read and took so far."""
        mine, cutoff = self.sent.setdefault(number, []), self.now - keep_for(policy)
        if any(at < cutoff for _, at in mine):
            self.stale[number] = cutoff
        fingerprint = digest(text)
        withheld = decide(mine, fingerprint, policy, self.now, opt_out)
        if withheld is None:
            mine.append((fingerprint, self.now))
            self.added.append({"number": number, "digest": fingerprint, "sent_at": self.now})
        return withheld


# --- one batch ------------------------------------------------------------------------------


def record_batch(driver: Driver, items: Sequence[InboundRecord], look_first: bool = False) -> list[Recorded]:
    """Store `items` in the driver's transaction, in order.

    Message ids are taken to be new (a retry is rare): if the insert finds one stored, it raises
    StoredBefore and the caller tries again with `look_first`, reading the stored answers first.
    ledger.HeadNotReady: the caller prepares the head and tries again.
    """
    now = utcnow()
    # Keyed by the senders' pseudonyms, as `consent.lock_subject` does (the hash is made before the batch).
    _lock(driver, sorted({crypto.pseudonym_of(item.sealed.subject) for item in items if item.phone}), now)
    stored = _stored(driver, items) if look_first else {}
    replies = _Replies(now)
    limited = sorted({i.from_address for i in items if i.phone and i.reply is not None and i.limits is not None})
    if limited:
        sent_at = driver.result(_replies.c.sent_at)
        for number, fingerprint, at in driver.execute(
            f"SELECT number, digest, sent_at FROM auto_replies WHERE number IN ({marks(len(limited))})", limited
        ).fetchall():
            replies.sent.setdefault(number, []).append((fingerprint, sent_at(at)))

    results: list[Recorded] = []
    new: list[tuple[InboundRecord, dict[str, Any]]] = []
    for item in items:
        key = (item.provider, item.message_id)
        if key in stored:
            results.append(stored[key])
            continue
        reply, withheld = item.reply, None
        if reply is not None and item.limits is not None and item.phone:
            withheld = replies.take(item.from_address, reply, item.limits, item.change == "opt_out")
            reply = None if withheld else reply
        stored[key] = Recorded(item.intent, reply, duplicate=True)
        results.append(Recorded(item.intent, reply, duplicate=False, withheld=withheld))
        sealed = item.sealed
        new.append((item, {**item.columns(reply), "body": sealed.body, "decision": sealed.decision, "received_at": now}))
    ids: dict[tuple[str, str], int] = {}
    if new:
        returned = insert(driver, _inbound, [row for _, row in new],
                          " ON CONFLICT DO NOTHING RETURNING id, provider, provider_message_id").fetchall()
        ids = {(provider, message_id): row_id for row_id, provider, message_id in returned}
    if len(ids) != len(new):
        # A retry of a stored message, or one committed meanwhile by a delivery that holds no number
        # lock (not from a phone): this try is rolled back, and the next reads the stored answers.
        raise StoredBefore

    plan = _plan(driver, now, [(item, ids[(item.provider, item.message_id)]) for item, _ in new if item.change])
    _write(driver, plan, replies)
    return results


class StoredBefore(Exception):
    """A message of the batch is stored already: try again reading the stored answers first."""


def _lock(driver: Driver, phones: list[str], now: datetime) -> None:
    """The per-number locks of `consent.lock_subject`, for every sender of the batch (pseudonyms, sorted)."""
    if not phones:
        return
    if driver.postgresql:
        # One statement: a new number's row is locked by its insert, an existing one by the no-op update.
        insert(driver, _subjects, [{"number": number, "created_at": now} for number in phones],
               " ON CONFLICT (number) DO UPDATE SET number = excluded.number")
    else:
        # SQLite has no row locks: BEGIN IMMEDIATE already serialises every writer there.
        insert(driver, _subjects, [{"number": number, "created_at": now} for number in phones], " ON CONFLICT DO NOTHING")


def _stored(driver: Driver, items: Sequence[InboundRecord]) -> dict[tuple[str, str], Recorded]:
    """The answers already given to these message ids, by (provider, message id)."""
    providers = sorted({item.provider for item in items})
    message_ids = [item.message_id for item in items]
    rows = driver.execute(
        f"SELECT provider, provider_message_id, intent, reply FROM inbound_messages"
        f" WHERE provider IN ({marks(len(providers))}) AND provider_message_id IN ({marks(len(message_ids))})",
        [*providers, *message_ids],
    ).fetchall()
    return {(provider, message_id): Recorded(intent, reply, duplicate=True) for provider, message_id, intent, reply in rows}


@dataclass
class _Plan:
    """The batch's consent changes planned per number, and their events in arrival order."""

    states: dict[str, NumberState] = field(default_factory=dict)
    events: list[tuple[InboundRecord, Planned]] = field(default_factory=list)


def _plan(driver: Driver, now: datetime, changes: list[tuple[InboundRecord, int]]) -> _Plan:
    """Read the changing numbers' suppressions and subscriptions at once; plan every change in order."""
    plan = _Plan()
    if not changes:
        return plan
    numbers = sorted({item.from_address for item, _ in changes})
    keyring = crypto.current()
    # An erased number's rows hold its pseudonym; a STOP or START from it applies to them as well.
    owner = {keyring.pseudonym(number): number for number in numbers} | {number: number for number in numbers}
    sql = (f"SELECT 0, id, number, sender_scope, topic, until, NULL FROM suppressions"
           f" WHERE number IN ({marks(len(owner))})")
    params = sorted(owner)
    if any(item.change == "opt_out" for item, _ in changes):
        # An opt-out ends the number's subscriptions too.
        sql += (" UNION ALL SELECT 1, id, number, sender_scope, topic, expires_at, status FROM subscriptions"
                f" WHERE number IN ({marks(len(numbers))})")
        params += numbers
    plan.states = {number: NumberState(number) for number in numbers}
    until = driver.result(_suppressions.c.until)
    for table, row_id, number, scope, topic, when, status in driver.execute(sql + " ORDER BY 1, 2", params).fetchall():
        state = plan.states[owner[number]]
        if table == 0:
            state.suppressions.append(Held(number, scope, topic, until(when), id=row_id))
        else:
            state.subscriptions.append(Subscribed(scope, topic, status, until(when), id=row_id))
    for state in plan.states.values():
        state.mark_read()
    for item, inbound_id in changes:
        change = ConsentChange(
            number=item.from_address, scopes=(GLOBAL_SCOPE,) if item.stop_all else item.scopes,
            action=cast(Action, item.change), source="keyword", inbound_message_id=inbound_id,
            explanation=item.decision, rules_version=item.rules_version,
        )
        plan.events += [(item, planned) for planned in planner.apply(plan.states[item.from_address], change, now)]
    return plan


def _event_row(item: InboundRecord, planned: Planned) -> dict[str, Any]:
    """The planned event's row, with the keyed hash and the sealed decision `InboundRecord.sealed` made beforehand."""
    row = planned.columns()
    row["subject"] = item.sealed.subject
    if not planned.extra:
        row["explanation"] = item.sealed.decision  # the decision as the message's own row stores it
    return row


def _write(driver: Driver, plan: _Plan, replies: _Replies) -> None:
    """The ledger head first (taken last in the transaction), then every write in one go (`Driver.defer`)."""
    if plan.events:
        rows = [_event_row(item, planned) for item, planned in plan.events]
        ledger.append_driven(driver, rows)
        for (_, planned), row in zip(plan.events, rows):
            planned.id = row["id"]
    effects = [state.effects() for state in plan.states.values()]
    added = [row for effect in effects for row in effect.inserted]
    restated = [row for effect in effects for row in effect.updated]
    dropped = [row_id for effect in effects for row_id in effect.deleted]
    if dropped:
        sql = f"DELETE FROM suppressions WHERE id IN ({marks(len(dropped))})"
        # A START then a STOP in one batch drops a row and adds one with the same key: delete first.
        driver.execute(sql, dropped) if added else driver.defer(sql, dropped)
    created_at = driver.bind(_suppressions.c.created_at)
    for held in restated:
        driver.defer("UPDATE suppressions SET number = ?, until = NULL, source = ?, event_id = ?, created_at = ?"
                     " WHERE id = ?", (held.number, held.source, event_id(held.event), created_at(held.created_at), held.id))
    if added:
        insert(driver, _suppressions, [
            {"number": row.number, "sender_scope": row.scope, "topic": row.topic, "until": None, "source": row.source,
             "event_id": event_id(row.event), "created_at": row.created_at} for row in added
        ], defer=True)
    ended = [row_id for effect in effects for row_id in effect.subscriptions_deleted]
    if ended:
        driver.defer(f"DELETE FROM subscriptions WHERE id IN ({marks(len(ended))})", ended)
    sent_at = driver.bind(_replies.c.sent_at)
    for before in sorted(set(replies.stale.values())):
        numbers = sorted(number for number, cutoff in replies.stale.items() if cutoff == before)
        driver.defer(f"DELETE FROM auto_replies WHERE number IN ({marks(len(numbers))}) AND sent_at < ?",
                     [*numbers, sent_at(before)])
    if replies.added:
        insert(driver, _replies, replies.added, defer=True)
