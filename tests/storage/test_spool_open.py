"""Workers booting together open one new spool file: none may fail on SQLite's switch to WAL."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from storage.local_spool import Spool

WORKERS = 12
ROUNDS = 30


def _open(path: str, barrier: multiprocessing.synchronize.Barrier, results: multiprocessing.queues.Queue[str]) -> None:
    barrier.wait()
    try:
        Spool(path)
        results.put("ok")
    except Exception as error:  # noqa: BLE001 - the parent reports what failed
        results.put(f"{type(error).__name__}: {error}")


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_workers_open_a_new_spool_at_once(tmp_path: Path, round_: int) -> None:
    # Forked like gunicorn's workers, released together at a barrier onto a file none has created.
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(WORKERS), context.Queue()
    path = str(tmp_path / "spool.db")
    workers = [context.Process(target=_open, args=(path, barrier, results)) for _ in range(WORKERS)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert outcomes == ["ok"] * WORKERS
    assert Spool(path).depth() == 0
