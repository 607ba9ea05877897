"""Group commit: the requests of one process that arrive together share one transaction.

Each request thread queues its item and waits. One of the waiting threads at a time (the leader)
takes everything queued, in arrival order, hands it to `apply` (one transaction), and gives each
waiter its own result; then it leads again until its own item is done, and on stepping down wakes
the next waiter to lead. No request is answered before the transaction holding its item has
committed, so group commit amortises BEGIN, COMMIT, the ledger head and round trips without
weakening durability. There is no background thread: nothing to start after a fork or to stop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 32
"""Items in one transaction at most: bounds the time the ledger head is held."""
GATHER_SECONDS = 0.003
"""How long a leader waits for announced items (`arriving`) before it starts a transaction without them."""


class _Slot(Generic[Item, Result]):
    __slots__ = ("item", "result", "error", "done", "wake")

    def __init__(self, item: Item) -> None:
        self.item = item
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

    def submit(self, item: Item) -> Result:
        """Queue `item`, wait until the transaction that holds it has committed, and return its result."""
        slot: _Slot[Item, Result] = _Slot(item)
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
                        self._run_batch()
                finally:
                    self._leader.release()
                    self._wake_next()
            else:
                slot.wake.wait()
                slot.wake.clear()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _run_batch(self) -> None:
        with self._arrived:
            deadline = time.monotonic() + self._gather
            while self._coming and len(self._queue) < self._max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        interrupted: BaseException | None = None
        try:
            outcomes = self._apply([slot.item for slot in batch])
        except Exception as error:  # noqa: BLE001 - every waiter of the batch gets it
            outcomes = [error] * len(batch)
        except BaseException as error:  # the waiters must not hang; the leader's thread still stops
            outcomes, interrupted = [error] * len(batch), error
        for slot, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                slot.error = outcome
            else:
                slot.result = outcome
            slot.done = True
            slot.wake.set()
        if interrupted is not None:
            raise interrupted

    def _wake_next(self) -> None:
        """After stepping down: the oldest waiter still queued becomes the leader."""
        with self._queue_lock:
            if self._queue:
                self._queue[0].wake.set()
