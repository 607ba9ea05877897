"""Webhook benchmark: signed Twilio STOP/START/other mixes against the gateway and a bare Flask endpoint.

A third server, bench/nostore.py, does the gateway's request work (signature, form, numbers,
classification, TwiML) and stores, logs and counts nothing. All three run under gunicorn with the
same settings (gunicorn.conf.py: gthread, WEB_CONCURRENCY workers, GUNICORN_THREADS threads) on
127.0.0.1 only; a fixed number of keep-alive connections sends pre-signed requests for a fixed
time, and the script prints requests per second, p50/p99 latency and errors for each, and each
one's share of the bare endpoint's throughput.

    .venv/bin/python bench/webhook.py                      # SQLite, then PostgreSQL (bench_h5)
    .venv/bin/python bench/webhook.py --backend sqlite --duration 20 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import machine  # noqa: E402
from gateway import simulator  # noqa: E402
from storage import crypto  # noqa: E402

TOKEN = "bench-twilio-token"
PATH = "/webhooks/twilio/sms"
SENDERS = 2000
MIX = (("STOP", 40), ("START", 40), ("HELP", 5), ("thanks, see you at 5", 15))
"""Bodies and their weights in the stream, as after a campaign: mostly STOP and START."""
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_h5"


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        return (f"{self.name:<22} {self.rps:9.1f} req/s   p50 {self.percentile(0.50):7.2f} ms   "
                f"p99 {self.percentile(0.99):7.2f} ms   errors {self.errors}/{self.requests + self.errors}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One gunicorn on a free loopback port, with gunicorn.conf.py's settings."""

    def __init__(self, app: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.app = app
        self.env = {**env, "PORT": str(self.port)}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.prefix) / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", self.app],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
                raise SystemExit(f"{self.app} exited:\n{tail}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"{self.app} did not answer in 60 s; see {self.log}")

    def workers(self) -> list[int]:
        """The gunicorn workers' process ids."""
        assert self.process is not None
        return [int(pid) for pid in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()]

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def requests_for(port: int, count: int, seed: int) -> list[bytes]:
    """Pre-signed raw HTTP requests (signing is the provider's cost, not ours), each a new MessageSid."""
    rng = random.Random(seed)
    bodies = [body for body, weight in MIX for _ in range(weight)]
    url = f"http://127.0.0.1:{port}{PATH}"
    out = []
    for _ in range(count):
        form = simulator.inbound_form(rng.choice(bodies), f"+1415{rng.randrange(SENDERS):07d}", "+18005550199")
        data = urllib.parse.urlencode(form).encode()
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(data)}\r\nX-Twilio-Signature: {simulator.sign(url, form, TOKEN)}\r\n"
            "User-Agent: TwilioProxy/1.1\r\nConnection: keep-alive\r\n\r\n"
        )
        out.append(head.encode() + data)
    return out


Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _exchange(stream: Stream, request: bytes) -> tuple[int, bool]:
    """Send one request, read its whole answer; its status, and whether the server closes after it."""
    reader, writer = stream
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    closing = False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
        elif name.lower() == b"connection" and value.strip().lower() == b"close":
            closing = True
    await reader.readexactly(length)
    return status, closing


def _owners(port: int) -> dict[int, int]:
    """Which process holds the server's end of each loopback connection to `port`, by the client's port."""
    listed = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                            capture_output=True, text=True, check=True).stdout
    owners = {}
    for line in listed.splitlines():
        peer, pid = re.search(r":(\d+)\s+users:", line), re.search(r"pid=(\d+)", line)
        if peer and pid:
            owners[int(peer.group(1))] = int(pid.group(1))
    return owners


async def _open(port: int, count: int, workers: list[int]) -> list[Stream]:
    """`count` keep-alive connections spread evenly over `workers`, as a load balancer's many connections are.

    Left to the kernel, the workers race to accept: 8 connections opened at once often all land on
    one worker (one GIL, so about one core) while the other idles, whichever server it is. A
    connection is kept once a request over it shows which worker holds it, if that worker still
    lacks its share; the others are closed when all are placed. Without `workers`: as they come.
    """
    health = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    if not workers or shutil.which("ss") is None:
        return [await asyncio.open_connection("127.0.0.1", port) for _ in range(count)]
    share = -(-count // len(workers))
    kept: list[Stream] = []
    extra: list[Stream] = []
    placed = dict.fromkeys(workers, 0)
    while len(kept) < count and len(extra) < 20 * count:
        stream = await asyncio.open_connection("127.0.0.1", port)
        await _exchange(stream, health)
        owner = _owners(port).get(stream[1].get_extra_info("sockname")[1])
        if owner in placed and placed[owner] < share:
            placed[owner] += 1
            kept.append(stream)
        else:
            extra.append(stream)
    for _, writer in extra:
        writer.close()
    if len(kept) < count:
        print(f"  could not spread connections over the workers ({placed}); the rest as they come", file=sys.stderr)
        kept += [await asyncio.open_connection("127.0.0.1", port) for _ in range(count - len(kept))]
    return kept


async def _connection(port: int, stream: Stream, queue: list[bytes], deadline: float, latencies: list[float],
                      errors: list[str]) -> None:
    try:
        while queue and time.perf_counter() < deadline:
            request = queue.pop()
            started = time.perf_counter()
            try:
                status, closing = await _exchange(stream, request)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                errors.append(type(error).__name__)
                stream[1].close()
                stream = await asyncio.open_connection("127.0.0.1", port)
                continue
            if status == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors.append(f"HTTP {status}")
            if closing:
                stream[1].close()
                stream = await asyncio.open_connection("127.0.0.1", port)
    finally:
        stream[1].close()


async def _drive(port: int, requests: list[bytes], concurrency: int, seconds: float,
                 workers: list[int] | None = None) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    streams = await _open(port, concurrency, workers or [])
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_connection(port, stream, requests, deadline, latencies, errors) for stream in streams))
    return latencies, errors, time.perf_counter() - started


def drive(name: str, server: Server, concurrency: int, seconds: float, warmup: float, max_requests: int,
          seed: int) -> Result:
    """Warm up, then send for `seconds` (or until `max_requests` are sent) at fixed concurrency."""
    port, workers = server.port, server.workers()
    if warmup:
        asyncio.run(_drive(port, requests_for(port, 2000, seed + 1), concurrency, warmup, workers))
    latencies, errors, elapsed = asyncio.run(
        _drive(port, requests_for(port, max_requests, seed), concurrency, seconds, workers))
    if errors:
        print(f"  {name}: first errors {errors[:5]}", file=sys.stderr)
    return Result(name, len(latencies), len(errors), elapsed, latencies)


def prepare(backend: str, work: Path, pg_url: str) -> str:
    """A fresh, migrated database for one run."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage.migrate import recreate, upgrade

    if backend == "sqlite":
        url = f"sqlite:///{work / 'gateway.db'}"
    else:
        url = pg_url
        parsed = make_url(url)
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database})
            if exists.first() is None:
                connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
        recreate(url)
        return url
    upgrade(url)
    return url


def server_env(url: str, work: Path, workers: int, threads: int) -> dict[str, str]:
    """The environment both servers run with: this one's, the database, a token, throwaway keys."""
    env = {key: value for key, value in os.environ.items() if key not in ("PROMETHEUS_MULTIPROC_DIR", "PUBLIC_BASE_URL")}
    env.update({
        "DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "API_TOKENS": "bench-api-token-0123456789",
        "INSTANCE_PATH": str(work / "instance"), "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads), "KEYWORDS_FILE": str(ROOT / "keywords.yaml"),
        # Signed for http://127.0.0.1:<port>, as the Host header says: only a development setting trusts it.
        "GATEWAY_ENV": "development",
        # Throwaway ledger keys, as a deployment sets them (PostgreSQL refuses development keys).
        "LEDGER_KEYS": crypto.generate_fernet_key(), "NUMBER_HASH_KEY": crypto.generate_hash_key(),
    })
    return env


APPS = (("gateway", "wsgi:app"), ("no storage", "bench.nostore:app"), ("bare flask", "bench.bare:app"))
"""The gateway, its request work without storage (bench/nostore.py), and the bare endpoint."""


def run(backend: str, args: argparse.Namespace) -> list[Result]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-webhook-{backend}-"))
    try:
        url = prepare(backend, work, args.pg_url)
        env = server_env(url, work, args.workers, args.threads)
        results = []
        for name, app in APPS:
            name = f"{name} ({backend})" if app == "wsgi:app" else name
            with Server(app, env, work / f"{app.split(':')[0]}.log") as server:
                results.append(drive(name, server, args.concurrency, args.duration, args.warmup,
                                     args.max_requests, args.seed))
                if results[-1].errors:
                    print(f"  {name} log tail:\n" + "\n".join(server.log.read_text().splitlines()[-15:]), file=sys.stderr)
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections sending at once")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of measured load per server")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load first")
    parser.add_argument("--max-requests", type=int, default=60_000, help="upper bound on measured requests")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", "4")))
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    print(f"machine: {machine()}")
    print(f"gunicorn gthread, {args.workers} workers x {args.threads} threads; {args.concurrency} connections; "
          f"{args.duration:g} s per server after {args.warmup:g} s warm-up; mix {dict(MIX)}")
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        *measured, bare = run(backend, args)
        for result in (*measured, bare):
            print(result.line())
        for result in measured:
            ratio = result.rps / bare.rps if bare.rps else float("nan")
            print(f"{'ratio ' + result.name.split(' (')[0]:<22} {ratio:9.1%} of the bare endpoint's requests per second")
        print()


if __name__ == "__main__":
    main()
