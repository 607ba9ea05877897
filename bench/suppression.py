"""Benchmark the suppression list: CSV import, campaign scrub and single checks, on SQLite and PostgreSQL.

    .venv/bin/python bench/suppression.py                 # 1,000,000 rows, SQLite and PostgreSQL
    .venv/bin/python bench/suppression.py --rows 100000 --backends sqlite

Uses its own databases only: a temporary SQLite file, and the PostgreSQL database BENCH_DATABASE_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/bench_h4, created when missing, emptied and
migrated afresh). Prints figures.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: bench/ is not a package

from sqlalchemy import create_engine, make_url, text  # noqa: E402

from bench.machine import machine  # noqa: E402
from gateway.api import csv_rows  # noqa: E402
from storage import Database, crypto  # noqa: E402
from storage.consent.bulk import import_suppressions  # noqa: E402
from storage.lists import scrub  # noqa: E402
from storage.consent import suppression_status  # noqa: E402
from storage.erasure import erase  # noqa: E402
from storage.migrate import recreate, upgrade  # noqa: E402

SENDER = "+18005550199"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_h4"


def ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database when it does not exist yet (never touches another one)."""
    parsed = make_url(url)
    engine = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    engine.dispose()


def numbers(count: int, offset: int) -> list[str]:
    """Distinct NANP numbers: +1 415..., +1 628..., as many as asked."""
    return [f"+1{2000000000 + offset + i * 3}" for i in range(count)]


def csv_bytes(values: list[str]) -> bytes:
    return ("number\n" + "\n".join(values) + "\n").encode()


def run(label: str, url: str, rows: int, checks: int, deadline: float) -> None:
    print(f"\n[{label}] {rows:,} rows")
    database = Database(url)
    listed = numbers(rows, 0)
    # Half the campaign is on the suppression list, half is not.
    campaign = numbers(rows // 2, 0)[::1] + numbers(rows - rows // 2, 3 * rows + 1)
    random.Random(7).shuffle(campaign)

    data = csv_bytes(listed)
    started = time.perf_counter()
    parsed = csv_rows.import_rows(io.BytesIO(data), "US", SENDER, "*")
    parsing = time.perf_counter() - started
    with database.begin() as session:
        result = import_suppressions(session, parsed, actor="bench")
    total = time.perf_counter() - started
    print(f"  import CSV        {total:7.2f} s  ({parsing:.2f} s reading and checking the CSV, "
          f"{total - parsing:.2f} s writing {result.added:,} suppressions and ledger events; {rows / total:,.0f} rows/s)")

    if time.perf_counter() > deadline:
        print("  (time limit reached: scrub and checks skipped)")
        return
    # A real list has erased numbers, kept only as their keyed hash: with one of them on the list,
    # the scrub hashes the campaign's other numbers to find it.
    with database.begin() as session:
        erase(session, listed[0], actor="bench", reason="bench: one erased number")
    started = time.perf_counter()
    valid, invalid = csv_rows.number_list(campaign, "US")  # type: ignore[arg-type]
    normalising = time.perf_counter() - started
    with database.begin() as session:
        suppressed = scrub(session, valid, SENDER, None)
    total = time.perf_counter() - started
    assert len(suppressed) == rows // 2 and not invalid, (len(suppressed), len(invalid))
    print(f"  scrub             {total:7.2f} s  ({normalising:.2f} s checking numbers, {total - normalising:.2f} s in the "
          f"database; {len(suppressed):,} suppressed of {len(valid):,}, one of them erased)")

    rng = random.Random(11)
    probes = [rng.choice(listed) if i % 2 else f"+1{3900000000 + i}" for i in range(checks)]
    # A server holds no million-number lists: drop ours so the garbage collector's pauses are a server's.
    del listed, campaign, data, parsed, valid, suppressed
    gc.collect()
    timings = []
    for number in probes:
        if time.perf_counter() > deadline:
            break
        began = time.perf_counter()
        with database.read() as connection:
            suppression_status(connection, number, SENDER, None)
        timings.append(time.perf_counter() - began)
    timings.sort()
    p50 = statistics.median(timings) * 1000
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))] * 1000
    print(f"  single check      p50 {p50:.3f} ms  p99 {p99:.3f} ms  ({len(timings):,} checks, one read-only transaction each)")
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=5_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds; later steps are skipped after it")
    args = parser.parse_args()
    crypto.install(crypto.Keyring.from_strings(crypto.generate_fernet_key(), crypto.generate_hash_key()))
    deadline = time.perf_counter() + args.time_limit
    print(f"bench/suppression.py on {machine()}")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="bench-suppression-") as directory:
                url = f"sqlite:///{directory}/bench.db"
                upgrade(url)
                run("SQLite (WAL, file in a temporary directory)", url, args.rows, args.checks, deadline)
        elif backend == "postgresql":
            url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
            ensure_database(url)
            recreate(url)
            run(f"PostgreSQL ({url.rsplit('@', 1)[-1]})", url, args.rows, args.checks, deadline)
        else:
            parser.error(f"unknown backend {backend!r}")


if __name__ == "__main__":
    main()
