"""Record inbound keyword messages in batches: one transaction and a fixed handful of statements per batch.

The webhook's hot path. `record` queues one message on the database's group commit
(storage/groupcommit.py) and returns once the transaction holding it has committed. A batch:

1. takes the per-number locks of every phone sender in it, in sorted order (no deadlock between
   batches of different workers);
2. reads which message ids are already stored (a retry gets the stored answer) and the senders'
   recent auto-replies (limits shared through the database);
3. inserts the new messages (ON CONFLICT DO NOTHING: a racing retry is a duplicate, never an error);
4. reads the senders' suppressions and subscriptions once, and plans every opt-out and opt-in in
   arrival order in memory, with the same rules as `consent.apply_change` (a STOP then a START
   from one number in one batch ends subscribed, with both events in the ledger);
5. chains the events under the ledger head (taken last, so the serialised part stays short) and
   writes the suppression changes they cause; then commits.

JOIN and YES (double opt-in) keep the general path in gateway/inbound.py: they are rare, and
`consent.apply_change` stays the one description of them.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal, NamedTuple, cast
from weakref import WeakKeyDictionary, finalize, ref

from sqlalchemy import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from storage import crypto, deadline, ledger
from storage.db import Database
from storage.driver import Driver, insert, marks, transaction
from storage.groupcommit import GroupCommit
from storage.limits import AutoReply, ReplyPolicy, Withheld, digest
from storage.models import ALL_TOPICS, GLOBAL_SCOPE, ReceivedMessage, Subject, Suppression
from storage.types import utcnow

Change = Literal["opt_out", "opt_in"]

UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)
"""The database cannot take the batch now: every message of it fails alike (the caller spools them).

PoolTimeout covers deadline.DeadlineExceeded: the batch's time (its items' earliest deadline) ran out."""
RETRIES = 3
"""Attempts for a batch that met a deadlock, a concurrent writer or an unprepared ledger head."""


@dataclass(frozen=True)
class Inbound:
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
    """What `Inbound.sealed` prepares."""

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
_inbound = cast(Table, ReceivedMessage.__table__)
_suppressions = cast(Table, Suppression.__table__)
_replies = cast(Table, AutoReply.__table__)


# --- planning in memory ---------------------------------------------------------------------


@dataclass(eq=False)
class _Row:
    """A suppression row as the batch sees it: read from the database (`id`) or planned here."""

    number: str
    scope: str
    topic: str
    until: datetime | None
    id: int | None = None
    event: dict[str, Any] | None = None
    """The event that creates or restates the row (its id is known once the events are chained)."""


@dataclass
class _Plan:
    """Everything one batch writes after the messages: events, suppression and subscription changes."""

    now: datetime
    suppressions: dict[str, list[_Row]] = field(default_factory=dict)
    subscriptions: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    dropped_suppressions: list[int] = field(default_factory=list)
    dropped_subscriptions: list[int] = field(default_factory=list)
    restated: list[_Row] = field(default_factory=list)
    dropped_rows: list[_Row] = field(default_factory=list)

    def rows(self, number: str) -> list[_Row]:
        return self.suppressions.setdefault(number, [])

    def event(self, item: Inbound, inbound_id: int, scope: str, topic: str, changed: bool,
              **extra: Any) -> dict[str, Any]:
        """A ledger event as `consent._event` makes it, as a row for `ledger.append_rows`."""
        explanation = {**item.decision, **extra}
        row = {
            "number": item.from_address, "subject": item.sealed.subject,
            "sender_scope": scope, "topic": topic, "action": item.change,
            "until": None, "source": "keyword", "changed": changed, "inbound_message_id": inbound_id,
            "delivery_report_id": None, "rule": explanation.get("rule"), "tier": explanation.get("tier"),
            "score": explanation.get("score"), "language": explanation.get("language"),
            "rules_version": item.rules_version, "actor": None,
            # The decision as the message's own row stores it, unless the event adds to it.
            "explanation": explanation if extra else item.sealed.decision, "created_at": self.now,
        }
        self.events.append(row)
        return row

    def opt_out(self, item: Inbound, inbound_id: int) -> None:
        """`consent._stop` for each scope, topic '*', no pause: the number's own rows and its pseudonym's."""
        number = item.from_address
        for scope in (GLOBAL_SCOPE,) if item.stop_all else item.scopes:
            row = next((r for r in self.rows(number) if r.scope == scope and r.topic == ALL_TOPICS), None)
            # An opt-out ends the subscriptions it covers (every one of the number's for STOPALL).
            subscriptions = self.subscriptions.get(number, [])
            ended = [s for s in subscriptions if scope == GLOBAL_SCOPE or s[1] == scope]
            if ended:
                self.subscriptions[number] = [s for s in subscriptions if s not in ended]
                self.dropped_subscriptions += [s[0] for s in ended]
            extra = {"subscriptions_ended": len(ended)} if ended else {}
            if row is None:
                event = self.event(item, inbound_id, scope, ALL_TOPICS, True, **extra)
                self.rows(number).append(_Row(number, scope, ALL_TOPICS, None, event=event))
                continue
            # A pause becomes an opt-out; an opt-out already there stays as it is.
            paused = row.until is not None
            event = self.event(item, inbound_id, scope, ALL_TOPICS, paused or bool(ended), **extra)
            if paused:
                row.number, row.until, row.event = number, None, event
                if row.id is not None and row not in self.restated:
                    self.restated.append(row)

    def opt_in(self, item: Inbound, inbound_id: int) -> None:
        """`consent._opt_in`, topic '*': lift the sender's suppressions and a STOPALL, every topic."""
        number = item.from_address
        covered = {*item.scopes, GLOBAL_SCOPE}
        lifted = [row for row in self.rows(number) if row.scope in covered]
        for row in lifted:
            self.event(item, inbound_id, row.scope, row.topic, True)
            if row.id is not None:
                self.dropped_suppressions.append(row.id)
                self.dropped_rows.append(row)
            if row in self.restated:
                self.restated.remove(row)
        if not lifted:
            self.event(item, inbound_id, item.scopes[0], ALL_TOPICS, False)
        self.suppressions[number] = [row for row in self.rows(number) if row not in lifted]


@dataclass
class _Replies:
    """`limits.take_reply` for a batch: the senders' replies read once, this batch's added as they are taken."""

    now: datetime
    sent: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)
    stale: dict[str, datetime] = field(default_factory=dict)
    """Numbers with replies older than their policy keeps, and that age: those rows are dropped."""

    def take(self, number: str, text: str, policy: ReplyPolicy) -> Withheld | None:
        keep_for = max(policy.window, policy.repeat_interval)
        mine, fingerprint = self.sent.setdefault(number, []), digest(text)
        if any(at < self.now - keep_for for _, at in mine):
            self.stale[number] = self.now - keep_for
        repeated = any(d == fingerprint and at > self.now - policy.repeat_interval for d, at in mine)
        recent = sum(1 for _, at in mine if at > self.now - policy.window)
        if policy.repeat_interval and repeated:
            return "repeat"
        if policy.max_replies and policy.window and recent >= policy.max_replies:
            return "rate"
        mine.append((fingerprint, self.now))
        self.added.append({"number": number, "digest": fingerprint, "sent_at": self.now})
        return None


# --- one batch ------------------------------------------------------------------------------


def record_batch(driver: Driver, items: Sequence[Inbound], look_first: bool = False) -> list[Recorded]:
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
    new: list[tuple[Inbound, dict[str, Any]]] = []
    for item in items:
        key = (item.provider, item.message_id)
        if key in stored:
            results.append(stored[key])
            continue
        reply, withheld = item.reply, None
        if reply is not None and item.limits is not None and item.phone:
            withheld = replies.take(item.from_address, reply, item.limits)
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


def _stored(driver: Driver, items: Sequence[Inbound]) -> dict[tuple[str, str], Recorded]:
    """The answers already given to these message ids, by (provider, message id)."""
    providers = sorted({item.provider for item in items})
    message_ids = [item.message_id for item in items]
    rows = driver.execute(
        f"SELECT provider, provider_message_id, intent, reply FROM inbound_messages"
        f" WHERE provider IN ({marks(len(providers))}) AND provider_message_id IN ({marks(len(message_ids))})",
        [*providers, *message_ids],
    ).fetchall()
    return {(provider, message_id): Recorded(intent, reply, duplicate=True) for provider, message_id, intent, reply in rows}


def _plan(driver: Driver, now: datetime, changes: list[tuple[Inbound, int]]) -> _Plan:
    """Read the changing numbers' suppressions and subscriptions at once; plan every change in order."""
    plan = _Plan(now)
    if not changes:
        return plan
    numbers = sorted({item.from_address for item, _ in changes})
    keyring = crypto.current()
    # An erased number's rows hold its pseudonym; a STOP or START from it applies to them as well.
    owner = {keyring.pseudonym(number): number for number in numbers} | {number: number for number in numbers}
    sql = f"SELECT 0, id, number, sender_scope, topic, until FROM suppressions WHERE number IN ({marks(len(owner))})"
    params = sorted(owner)
    if any(item.change == "opt_out" for item, _ in changes):
        # An opt-out ends the number's subscriptions too.
        sql += (" UNION ALL SELECT 1, id, number, sender_scope, NULL, NULL FROM subscriptions"
                f" WHERE number IN ({marks(len(numbers))})")
        params += numbers
    until = driver.result(_suppressions.c.until)
    for table, row_id, number, scope, topic, paused_until in driver.execute(sql + " ORDER BY 1, 2", params).fetchall():
        if table == 0:
            plan.rows(owner[number]).append(_Row(number, scope, topic, until(paused_until), id=row_id))
        else:
            plan.subscriptions.setdefault(number, []).append((row_id, scope))
    for item, inbound_id in changes:
        (plan.opt_out if item.change == "opt_out" else plan.opt_in)(item, inbound_id)
    return plan


def _write(driver: Driver, plan: _Plan, replies: _Replies) -> None:
    """The ledger head first (taken last in the transaction), then every write in one go (`Driver.defer`)."""
    if plan.events:
        ledger.append_driven(driver, plan.events)
    added = [row for rows in plan.suppressions.values() for row in rows if row.id is None and row.event is not None]
    if plan.dropped_suppressions:
        sql = f"DELETE FROM suppressions WHERE id IN ({marks(len(plan.dropped_suppressions))})"
        # A START then a STOP in one batch drops a row and adds one with the same key: delete first.
        dropped_keys = {(row.number, row.scope, row.topic) for row in plan.dropped_rows}
        if any((row.number, row.scope, row.topic) in dropped_keys for row in added):
            driver.execute(sql, plan.dropped_suppressions)
        else:
            driver.defer(sql, plan.dropped_suppressions)
    created_at = driver.bind(_suppressions.c.created_at)
    for row in plan.restated:
        assert row.event is not None
        driver.defer("UPDATE suppressions SET number = ?, until = NULL, source = 'keyword', event_id = ?,"
                     " created_at = ? WHERE id = ?",
                     (row.number, row.event["id"], created_at(row.event["created_at"]), row.id))
    if added:
        insert(driver, _suppressions, [
            {"number": row.number, "sender_scope": row.scope, "topic": row.topic, "until": None, "source": "keyword",
             "event_id": row.event["id"], "created_at": row.event["created_at"]}  # type: ignore[index]
            for row in added
        ], defer=True)
    if plan.dropped_subscriptions:
        driver.defer(f"DELETE FROM subscriptions WHERE id IN ({marks(len(plan.dropped_subscriptions))})",
                     plan.dropped_subscriptions)
    sent_at = driver.bind(_replies.c.sent_at)
    for before in sorted(set(replies.stale.values())):
        numbers = sorted(number for number, cutoff in replies.stale.items() if cutoff == before)
        driver.defer(f"DELETE FROM auto_replies WHERE number IN ({marks(len(numbers))}) AND sent_at < ?",
                     [*numbers, sent_at(before)])
    if replies.added:
        insert(driver, _replies, replies.added, defer=True)


# --- the group commit around it -------------------------------------------------------------


class Intake:
    """The group commit of one database: `record` waits until its message's batch has committed."""

    def __init__(self, database: Database) -> None:
        # Weakly: the registry below holds intakes by their database, which must stay collectable.
        self._database = ref(database)
        self.commits: GroupCommit[Inbound, Recorded] = GroupCommit(self._apply)
        self._writer_lock = _WriterLock(database)

    @property
    def database(self) -> Database:
        database = self._database()
        assert database is not None, "the database of a live intake is referenced by its caller"
        return database

    def record(self, item: Inbound) -> Recorded:
        """Store `item` with the batch it joins; DeadlineExceeded once the caller's deadline has passed."""
        item.sealed  # noqa: B018 - encrypted and hashed here, in the caller's thread, not under the batch's lock
        return self.commits.submit(item, deadline.current())

    def arriving(self) -> AbstractContextManager[None]:
        """Say a message is on its way to `record` (a batch being started waits a moment for it)."""
        return self.commits.arriving()

    def _apply(self, items: Sequence[Inbound]) -> list[Recorded | BaseException]:
        try:
            return list(self._transaction(items))
        except UNREACHABLE as error:
            if not _rolled_back_for_retry(error) or len(items) == 1:
                raise
        except IntegrityError:
            if len(items) == 1:
                raise
        # Still a conflict or a deadlock victim: each message alone, so one cannot fail the others.
        outcomes: list[Recorded | BaseException] = []
        for item in items:
            try:
                outcomes += self._transaction([item])
            except Exception as error:  # noqa: BLE001 - this message's request raises it
                outcomes.append(error)
        return outcomes

    def _transaction(self, items: Sequence[Inbound]) -> list[Recorded]:
        """One batch in one transaction, tried again after what a second try resolves."""
        look_first = False
        for attempt in range(1, RETRIES + 1):
            try:
                with self._writer_lock, transaction(self.database) as driver:
                    return record_batch(driver, items, look_first)
            except UNREACHABLE as error:
                if not _rolled_back_for_retry(error) or attempt == RETRIES:
                    raise
            except IntegrityError:
                # A row a writer without the number lock (bulk import) added meanwhile: read it this time.
                if attempt == RETRIES:
                    raise
            except StoredBefore:
                look_first = True
            except ledger.HeadNotReady:
                with self.database.begin() as session:
                    ledger.lock_head(session)
        raise RuntimeError(f"a batch of {len(items)} inbound messages failed {RETRIES} times")


def _rolled_back_for_retry(error: Exception) -> bool:
    """PostgreSQL chose this transaction as a deadlock or serialisation victim (SQLSTATE class 40).

    A pool timeout (no connection at all, no driver error) never is.
    """
    return isinstance(error, DBAPIError) and str(getattr(error.orig, "sqlstate", "") or "").startswith("40")


class _WriterLock:
    """SQLite: the batches of every worker on this machine queue on an flock instead of SQLite's busy wait.

    SQLite's busy handler sleeps 1, 2, 5, 10... ms between tries, so two processes that write
    in turn wait far longer than the other's transaction takes; an flock wakes the next writer as
    soon as the last one is done. Other writers (API, CLI) still meet on SQLite's own lock.
    """

    def __init__(self, database: Database) -> None:
        url = make_url(database.url)
        path = url.database if url.get_backend_name() == "sqlite" else None
        self.path = f"{path}.writer-lock" if path and path != ":memory:" else None
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> None:
        if self.path is None:
            return
        if self._fd is None or self._pid != os.getpid():
            # Our own open file in each process: a forked child must not share its parent's lock.
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            finalize(self, os.close, self._fd)
        # Only one thread per intake writes at a time (the group commit's leader), so one file suffices.
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


_intakes: WeakKeyDictionary[Database, Intake] = WeakKeyDictionary()
_intakes_lock = threading.Lock()


def intake(database: Database) -> Intake:
    """The group commit of `database` in this process."""
    with _intakes_lock:
        found = _intakes.get(database)
        if found is None:
            found = _intakes[database] = Intake(database)
        return found
