"""The consent state machine, written once: one number's rows and a change in, the writes and ledger events out.

Pure: no SQL and no clock. A caller reads a `NumberState` (the number's suppressions and
subscriptions), calls `apply` (or `narrow`) once per change, in order, and writes
`NumberState.effects()` after chaining the `NumberState.events` into the ledger. The general path
(storage/consent/apply.py), the webhook's group commit (storage/consent/batch.py) and the bulk
import (storage/consent/bulk.py) differ only in how they read the rows and write the effects.

The rules:
- opt_out: a suppression for each scope and the topic; it ends the subscriptions it covers (every
  one of the number's for the `*` scope); an opt-out already there stays as it is, a pause becomes
  permanent.
- pause: a suppression until `until`; it never weakens an opt-out already there.
- opt_in: lifts the scopes' own suppressions and a STOPALL-style `*` one (of the topic, or all of
  them for topic `*`): the person has just asked, in writing, to hear from the sender again.
- join: a pending subscription until `until` (a repeat renews the window); a confirmed one stays.
- confirm: confirms the pending subscriptions still inside their window and lifts their
  suppressions; with nothing pending, or after the window, it changes nothing.
- narrow: turns a whole opt-out into opt-outs of some topics (scope clarification).
Every change gives at least one event; `changed` says whether it changed anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, NamedTuple

from storage.models import ALL_TOPICS, GLOBAL_SCOPE

Action = Literal["opt_out", "opt_in", "pause", "join", "confirm"]
DEADLINE_ACTIONS = ("pause", "join")
"""Actions that carry `until`: the end of a pause, the end of a double opt-in's confirmation window."""
NARROW = "narrow"
"""The ledger action that lifts a whole opt-out once the person said which topics it covers.

Not `opt_in`: the person did not ask to hear from the sender again, so dashboards and reports,
which count opt_in as a re-subscribe, leave it out."""


@dataclass(frozen=True)
class ConsentChange:
    """A request to change one number's consent for some sender scopes and a topic, with where it came from."""

    number: str
    scopes: tuple[str, ...]
    action: Action
    source: str
    topic: str = ALL_TOPICS
    until: datetime | None = None
    inbound_message_id: int | None = None
    delivery_report_id: int | None = None
    actor: str | None = None
    explanation: dict[str, Any] = field(default_factory=dict)
    rules_version: str | None = None

    def __post_init__(self) -> None:
        if not self.scopes:
            raise ValueError("a consent change needs at least one sender scope")
        if (self.action in DEADLINE_ACTIONS) != (self.until is not None):
            raise ValueError("`until` is given with a pause or a join, and only with those")


@dataclass(eq=False)
class Planned:
    """One ledger event to append; `id` is set once it is chained, and the rows it wrote then name it."""

    change: ConsentChange
    scope: str
    topic: str
    action: str
    changed: bool
    created_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def columns(self) -> dict[str, Any]:
        """The event's columns for the ledger (it adds the keyed hashes and the chain)."""
        change = self.change
        explanation = {**change.explanation, **self.extra}
        return {
            "number": change.number, "sender_scope": self.scope, "topic": self.topic, "action": self.action,
            "until": change.until, "source": change.source, "changed": self.changed,
            "inbound_message_id": change.inbound_message_id, "delivery_report_id": change.delivery_report_id,
            "rule": explanation.get("rule"), "tier": explanation.get("tier"), "score": explanation.get("score"),
            "language": explanation.get("language"), "rules_version": change.rules_version, "actor": change.actor,
            "explanation": explanation, "created_at": self.created_at,
        }


Written = Planned | int | None
"""What a row's event is: one planned here, the id of a stored one, or unknown (not read)."""


class Held(NamedTuple):
    """A suppression row: read (`id`) or planned; `number` is the plain number or, once erased, its pseudonym."""

    number: str
    scope: str
    topic: str
    until: datetime | None
    source: str = ""
    event: Written = None
    created_at: datetime | None = None
    id: int | None = None


class Subscribed(NamedTuple):
    """A subscription row: `pending` until `expires_at`, or `subscribed`."""

    scope: str
    topic: str
    status: str
    expires_at: datetime | None
    event: Written = None
    updated_at: datetime | None = None
    id: int | None = None


class Effects(NamedTuple):
    """The writes a subject's changes come to: rows to insert, to update in place (by id) and to delete."""

    inserted: list[Held]
    updated: list[Held]
    deleted: list[int]
    subscriptions_upserted: list[Subscribed]
    subscriptions_deleted: list[int]


@dataclass
class NumberState:
    """One number's consent rows as read, changed in memory by `apply`; the events planned so far."""

    number: str
    suppressions: list[Held] = field(default_factory=list)
    """In id order: where one key is held under both the number and its pseudonym, the first counts."""
    subscriptions: list[Subscribed] = field(default_factory=list)
    events: list[Planned] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.mark_read()

    def mark_read(self) -> None:
        """The rows as they are now are the ones read: `effects` is what changed since."""
        self._read = (list(self.suppressions), list(self.subscriptions))

    def held(self, scope: str, topic: str) -> Held | None:
        return next((row for row in self.suppressions if row.scope == scope and row.topic == topic), None)

    def effects(self) -> Effects:
        """What to write, from the rows as read and as they are now."""
        read, read_subscriptions = self._read
        kept = {row.id for row in self.suppressions}
        kept_subscriptions = {row.id for row in self.subscriptions}
        originals = set(map(id, read)) | set(map(id, read_subscriptions))
        return Effects(
            inserted=[row for row in self.suppressions if row.id is None],
            updated=[row for row in self.suppressions if row.id is not None and id(row) not in originals],
            deleted=[row.id for row in read if row.id is not None and row.id not in kept],
            subscriptions_upserted=[row for row in self.subscriptions if id(row) not in originals],
            subscriptions_deleted=[row.id for row in read_subscriptions
                                   if row.id is not None and row.id not in kept_subscriptions],
        )

    def _event(self, change: ConsentChange, scope: str, topic: str, changed: bool, now: datetime,
               action: str | None = None, **extra: Any) -> Planned:
        planned = Planned(change, scope, topic, action or change.action, changed, now, extra)
        self.events.append(planned)
        return planned

    def _replace(self, rows: list[Any], old: Any, new: Any) -> None:
        rows[next(index for index, row in enumerate(rows) if row is old)] = new


def apply(state: NumberState, change: ConsentChange, now: datetime) -> list[Planned]:
    """Apply one change to `state` in memory; the events it appends to `state.events`."""
    start = len(state.events)
    if change.action == "opt_in":
        _opt_in(state, change, now)
    elif change.action == "join":
        for scope in change.scopes:
            _join(state, change, scope, now)
    elif change.action == "confirm":
        _confirm(state, change, now)
    else:
        for scope in change.scopes:
            _stop(state, change, scope, now)
    return state.events[start:]


def stop_changes(held_until: datetime | None, until: datetime | None) -> bool:
    """Whether a stop (`until` None: an opt-out) changes a suppression already held until `held_until`.

    An opt-out makes a pause permanent; a pause renews a pause to its new end; nothing weakens an opt-out.
    """
    return held_until is not None and held_until != until


def covered_subscriptions(state: NumberState, scope: str, topic: str) -> list[Subscribed]:
    """The subscriptions an opt-out of `scope` and `topic` ends: every scope's for `*`, every topic's for `*`."""
    return [row for row in state.subscriptions
            if (scope == GLOBAL_SCOPE or row.scope == scope) and (topic == ALL_TOPICS or row.topic == topic)]


def _stop(state: NumberState, change: ConsentChange, scope: str, now: datetime) -> None:
    """An opt-out or a pause for one scope."""
    row = state.held(scope, change.topic)
    ended = covered_subscriptions(state, scope, change.topic) if change.action == "opt_out" else []
    state.subscriptions = [row for row in state.subscriptions if row not in ended]
    extra: dict[str, Any] = {"subscriptions_ended": len(ended)} if ended else {}
    if row is None:
        planned = state._event(change, scope, change.topic, True, now, **extra)
        state.suppressions.append(Held(change.number, scope, change.topic, change.until, change.source, planned, now))
        return
    changed = stop_changes(row.until, change.until)
    planned = state._event(change, scope, change.topic, changed or bool(ended), now, **extra)
    if changed:
        state._replace(state.suppressions, row, row._replace(
            number=change.number, until=change.until, source=change.source, event=planned, created_at=now))


def _opt_in(state: NumberState, change: ConsentChange, now: datetime, quiet: bool = False) -> None:
    """Lift the scopes' suppressions and a `*` one; `quiet`: no event when nothing was lifted."""
    scopes = {*change.scopes, GLOBAL_SCOPE}
    lifted = [row for row in state.suppressions
              if row.scope in scopes and (change.topic == ALL_TOPICS or row.topic == change.topic)]
    for row in lifted:
        state._event(change, row.scope, row.topic, True, now)
    if not lifted and not quiet:
        state._event(change, change.scopes[0], change.topic, False, now)
    state.suppressions = [row for row in state.suppressions if row not in lifted]


def _join(state: NumberState, change: ConsentChange, scope: str, now: datetime) -> None:
    row = next((r for r in state.subscriptions if r.scope == scope and r.topic == change.topic), None)
    if row is not None and row.status == "subscribed":
        state._event(change, scope, change.topic, False, now, state="subscribed")
        return
    planned = state._event(change, scope, change.topic, True, now, state="pending")
    pending = Subscribed(scope, change.topic, "pending", change.until, planned, now, row.id if row else None)
    if row is None:
        state.subscriptions.append(pending)
    else:
        state._replace(state.subscriptions, row, pending)


def pending(state: NumberState, scopes: Sequence[str], topic: str = ALL_TOPICS) -> list[Subscribed]:
    """The pending subscriptions of these scopes (and topic; `*`: any), expired or not."""
    return [row for row in state.subscriptions if row.status == "pending" and row.scope in scopes
            and (topic == ALL_TOPICS or row.topic == topic)]


def can_confirm(state: NumberState, scopes: Sequence[str], now: datetime) -> bool:
    """Whether a YES to these scopes would confirm a pending subscription now (else it gets no reply)."""
    return any(row.expires_at is not None and row.expires_at > now for row in pending(state, scopes))


def _confirm(state: NumberState, change: ConsentChange, now: datetime) -> None:
    rows = pending(state, change.scopes, change.topic)
    live = [row for row in rows if row.expires_at is not None and row.expires_at > now]
    if not live:
        state._event(change, change.scopes[0], change.topic, False, now, state="expired" if rows else "nothing_pending")
        return
    for row in live:
        planned = state._event(change, row.scope, row.topic, True, now, state="subscribed")
        state._replace(state.subscriptions, row,
                         row._replace(status="subscribed", expires_at=None, event=planned, updated_at=now))
        _opt_in(state, replace(change, scopes=(row.scope,), topic=row.topic, action="opt_in"), now, quiet=True)


def narrow(state: NumberState, change: ConsentChange, topics: Sequence[str], now: datetime) -> list[Planned]:
    """Turn the whole opt-out of `change.scopes` into opt-outs of `topics` (FCC scope clarification).

    `change` is the opt-out (action opt_out, topic `*`): each topic is stopped in each scope, then
    the scopes' own `*` rows are lifted with action `narrow`; topics stopped before stay stopped,
    and a STOPALL (`*` scope) is never touched.
    """
    if change.action != "opt_out" or change.topic != ALL_TOPICS or GLOBAL_SCOPE in change.scopes or not topics:
        raise ValueError("narrow takes a sender-scoped whole opt-out and at least one topic")
    start = len(state.events)
    for scope in change.scopes:
        for topic in topics:
            _stop(state, replace(change, topic=topic), scope, now)
    whole = [row for row in state.suppressions if row.scope in change.scopes and row.topic == ALL_TOPICS]
    for row in whole:
        state._event(change, row.scope, ALL_TOPICS, True, now, action=NARROW, topics_stopped=list(topics))
    state.suppressions = [row for row in state.suppressions if row not in whole]
    return state.events[start:]
