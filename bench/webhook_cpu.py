"""Where the webhook's CPU goes: CPU milliseconds per request, gateway beside the bare endpoint.

Runs bench/webhook.py's load (same servers, settings, mix and connections) and reads the CPU time
of the gunicorn workers, of this load generator, and (PostgreSQL) of the server backends serving
the benchmark's database. On a machine whose cores are all busy, requests per second follow from
these figures: a worker (one GIL) serves at most 1000 / (its ms per request) requests a second.

    .venv/bin/python bench/webhook_cpu.py --backend sqlite --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import webhook  # noqa: E402
from bench.machine import machine  # noqa: E402


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving the benchmark's database (others' load is left out)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
                                  {"d": make_url(url).database}).scalars().all()
    engine.dispose()
    return list(pids)


def measure(backend: str, app: str, args: argparse.Namespace) -> str:
    work = Path(tempfile.mkdtemp(prefix=f"bench-webhook-cpu-{backend}-"))
    try:
        url = webhook.prepare(backend, work, args.pg_url)
        env = webhook.server_env(url, work, workers=2, threads=4)
        with webhook.Server(app, env, work / "server.log") as server:
            served = server.workers()
            asyncio.run(webhook._drive(server.port, webhook.requests_for(server.port, 2000, 6), 8, args.warmup, served))
            requests = webhook.requests_for(server.port, 60_000, 5)
            database = backends(url) if backend == "postgresql" and app == "wsgi:app" else []
            before = (time.process_time(), cpu_seconds(served), cpu_seconds(database))
            latencies, errors, elapsed = asyncio.run(webhook._drive(server.port, requests, 8, args.duration, served))
            after = (time.process_time(), cpu_seconds(served), cpu_seconds(database))
        count = len(latencies)
        client, worker, postgres = ((b - a) / count * 1000 for a, b in zip(before, after))
        name = f"gateway ({backend})" if app == "wsgi:app" else "bare flask"
        return (f"{name:<22} {count / elapsed:8.1f} req/s   CPU ms per request: workers {worker:5.2f}   "
                f"load generator {client:4.2f}   postgresql {postgres:4.2f}   errors {len(errors)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL", webhook.DEFAULT_PG))
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print("gunicorn gthread, 2 workers x 4 threads; 8 connections; the mix of bench/webhook.py")
    print(measure("sqlite", "bench.bare:app", args))
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        print(measure(backend, "wsgi:app", args))


if __name__ == "__main__":
    main()
