"""Group commit: the requests of one process that arrive together share one transaction.

Each request thread queues its item and waits. One of the waiting threads at a time (the leader)
takes everything queued, in arrival order, hands it to `apply` (one transaction), and gives each
waiter its own result; then it leads again until its own item is done, and on stepping down wakes
the next waiter to lead. No request is answered before the transaction holding its item has
committed, so group commit amortises BEGIN, COMMIT, the ledger head and round trips without
weakening durability. There is no background thread: nothing to start after a fork or to stop.

A deadline (storage/deadline.py) bounds the whole wait: a waiter whose time runs out leaves the
queue (or abandons an item already in a batch) and raises DeadlineExceeded, and a batch runs
within the earliest deadline of its items, so items queued behind a stuck batch share their
request's remaining time instead of each waiting a fresh timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

from storage import deadline
from storage.deadline import DeadlineExceeded

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 32
"""Items in one transaction at most: bounds the time the ledger head is held."""
GATHER_SECONDS = 0.003
"""How long a leader waits for announced items (`arriving`) before it starts a transaction without them."""


class _Slot(Generic[Item, Result]):
    __slots__ = ("item", "deadline", "result", "error", "done", "wake")

    def __init__(self, item: Item, at: float | None) -> None:
        self.item = item
        self.deadline = at
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.done = False
        self.wake = threading.Event()


class GroupCommit(Generic[Item, Result]):
    """Run `apply(items)` for whatever is queued, one batch at a time; `submit` returns one item's result.

    `apply` gets the items in arrival order and returns one entry per item: its result, or the
    exception to raise in that item's thread. An exception raised by `apply` itself goes to every
    item of the batch.
    """

    def __init__(
        self,
        apply: Callable[[Sequence[Item]], Sequence[Result | BaseException]],
        max_batch: int = MAX_BATCH,
        gather: float = GATHER_SECONDS,
    ) -> None:
        self._apply = apply
        self._max_batch = max_batch
        self._queue: list[_Slot[Item, Result]] = []
        self._queue_lock = threading.Lock()
        self._arrived = threading.Condition(self._queue_lock)
        self._leader = threading.Lock()
        self._gather = gather
        self._coming = 0
        self._local = threading.local()

    @contextmanager
    def arriving(self) -> Iterator[None]:
        """Announce that this thread is about to submit: a leader waits a moment (`gather`) to take it along.

        Like PostgreSQL's commit_delay with commit_siblings, the wait happens only when others are
        known to be on their way; it ends as soon as they have all arrived (or left without submitting).
        """
        with self._queue_lock:
            self._coming += 1
        self._local.coming = True
        try:
            yield
        finally:
            if getattr(self._local, "coming", False):
                self._local.coming = False
                with self._arrived:
                    self._coming -= 1
                    self._arrived.notify_all()

    def submit(self, item: Item, at: float | None = None) -> Result:
        """Queue `item`, wait until the transaction that holds it has committed, and return its result.

        `at`: the time.monotonic() after which the caller stops waiting (DeadlineExceeded); the item
        may still be committed by a batch already under way (a retry then finds it stored).
        """
        slot: _Slot[Item, Result] = _Slot(item, at)
        with self._arrived:
            self._queue.append(slot)
            if getattr(self._local, "coming", False):
                self._local.coming = False
                self._coming -= 1
            self._arrived.notify_all()
        while not slot.done:
            if self._leader.acquire(blocking=False):
                try:
                    while not slot.done:
                        self._run_batch(slot)
                finally:
                    self._leader.release()
                    self._wake_next()
            elif slot.wake.wait(deadline.remaining(at)):
                slot.wake.clear()
            else:
                self._give_up(slot)
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _give_up(self, slot: _Slot[Item, Result]) -> None:
        """The waiter's deadline passed: out of the queue if still there, and the error to raise."""
        with self._queue_lock:
            if slot.done:
                return  # answered just in time
            if slot in self._queue:
                self._queue.remove(slot)
            slot.error, slot.done = DeadlineExceeded("the deadline passed waiting for a group commit"), True
        # It may have been woken to lead meanwhile: pass that on.
        self._wake_next()

    def _run_batch(self, mine: _Slot[Item, Result]) -> None:
        with self._arrived:
            gather_until = time.monotonic() + self._gather
            while self._coming and len(self._queue) < self._max_batch:
                left = gather_until - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            now = time.monotonic()
            expired = [slot for slot in batch if slot.deadline is not None and slot.deadline <= now]
        if expired:
            # Their waiters are leaving (or have left) with DeadlineExceeded: not worth a transaction.
            batch = [slot for slot in batch if slot not in expired]
            self._finish(expired, [DeadlineExceeded("the deadline passed waiting for a group commit")] * len(expired))
            if not batch:
                return
        # The batch ends by the earliest deadline among its items and the leader's own.
        ends = [slot.deadline for slot in (*batch, mine) if slot.deadline is not None]
        interrupted: BaseException | None = None
        try:
            with deadline.within(at=min(ends) if ends else None):
                outcomes = self._apply([slot.item for slot in batch])
        except Exception as error:  # noqa: BLE001 - every waiter of the batch gets it
            outcomes = [error] * len(batch)
        except BaseException as error:  # the waiters must not hang; the leader's thread still stops
            outcomes, interrupted = [error] * len(batch), error
        self._finish(batch, outcomes)
        if interrupted is not None:
            raise interrupted

    def _finish(self, slots: Sequence[_Slot[Item, Result]], outcomes: Sequence[Result | BaseException]) -> None:
        """Give each slot its outcome and wake its waiter (one that gave up already keeps its DeadlineExceeded)."""
        with self._queue_lock:
            answered = [slot for slot in slots if not slot.done]
            for slot, outcome in zip(slots, outcomes, strict=True):
                if slot.done:
                    continue
                if isinstance(outcome, BaseException):
                    slot.error = outcome
                else:
                    slot.result = outcome
                slot.done = True
        for slot in answered:
            slot.wake.set()

    def _wake_next(self) -> None:
        """After stepping down: the oldest waiter still queued becomes the leader."""
        with self._queue_lock:
            if self._queue:
                self._queue[0].wake.set()
