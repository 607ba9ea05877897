"""The group commit on its own: every waiter gets its own result, batches form, errors reach the right threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from storage.groupcommit import GroupCommit

THREADS = 16


class Recorder:
    """An `apply` that records the batches it was given and answers each item with its double."""

    def __init__(self, pause: float = 0.0, fail: object = None) -> None:
        self.batches: list[list[int]] = []
        self.pause = pause
        self.fail = fail

    def __call__(self, items: Sequence[int]) -> list[int | BaseException]:
        self.batches.append(list(items))
        time.sleep(self.pause)  # a transaction in flight: others queue meanwhile
        return [ValueError(f"item {item}") if item == self.fail else item * 2 for item in items]


def together(count: int, work) -> list[object]:  # type: ignore[no-untyped-def]
    """Run work(index) in `count` threads released at once; each thread's result or exception."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the test looks at it
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a waiter hangs"
    return results


def test_one_thread_gets_its_result_at_once() -> None:
    apply = Recorder()
    commits = GroupCommit(apply)
    assert [commits.submit(item) for item in (1, 2, 3)] == [2, 4, 6]
    assert apply.batches == [[1], [2], [3]]


def test_concurrent_items_share_batches_and_each_gets_its_own_result() -> None:
    apply = Recorder(pause=0.01)
    commits = GroupCommit(apply)
    assert together(THREADS, commits.submit) == [index * 2 for index in range(THREADS)]
    assert sorted(item for batch in apply.batches for item in batch) == list(range(THREADS))
    assert max(len(batch) for batch in apply.batches) > 1


def test_a_batch_is_never_larger_than_max_batch() -> None:
    apply = Recorder(pause=0.01)
    commits = GroupCommit(apply, max_batch=3)
    together(THREADS, commits.submit)
    assert max(len(batch) for batch in apply.batches) <= 3


def test_an_item_error_reaches_only_its_thread() -> None:
    commits = GroupCommit(Recorder(pause=0.01, fail=5))
    results = together(THREADS, commits.submit)
    assert isinstance(results[5], ValueError)
    assert [result for index, result in enumerate(results) if index != 5] == [i * 2 for i in range(THREADS) if i != 5]


def test_an_error_of_the_whole_batch_reaches_every_item_of_it() -> None:
    def broken(items: Sequence[int]) -> list[int]:
        raise ConnectionError("database down")

    commits = GroupCommit(broken)
    assert all(isinstance(result, ConnectionError) for result in together(4, commits.submit))
    with pytest.raises(ConnectionError):
        commits.submit(1)


def test_a_leader_waits_for_announced_items_and_takes_them_along() -> None:
    apply = Recorder()
    commits = GroupCommit(apply, gather=5.0)
    announced = threading.Event()

    def late() -> int:
        with commits.arriving():
            announced.set()
            time.sleep(0.2)  # decoding its request
            return commits.submit(2)

    thread = threading.Thread(target=late)
    thread.start()
    announced.wait(5)
    assert commits.submit(1) == 2
    thread.join(5)
    assert apply.batches == [[1, 2]]


def test_an_announced_thread_that_never_submits_releases_the_leader() -> None:
    commits = GroupCommit(Recorder(), gather=3600.0)
    announced, leave = threading.Event(), threading.Event()

    def refused() -> None:
        with commits.arriving():  # e.g. a request refused for its signature
            announced.set()
            leave.wait(5)

    thread = threading.Thread(target=refused)
    thread.start()
    announced.wait(5)
    results: list[int] = []
    leader = threading.Thread(target=lambda: results.append(commits.submit(1)))
    leader.start()
    leave.set()
    leader.join(60)  # not the hour of `gather`: the leader stops waiting when the request leaves
    thread.join(5)
    assert not leader.is_alive() and results == [2]
