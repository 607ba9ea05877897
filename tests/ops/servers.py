"""Real servers for the operations tests: a private PostgreSQL cluster and the gateway under gunicorn."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.migrate import upgrade
from tests.conftest import LEDGER_KEY, NUMBER_HASH_KEY

ROOT = Path(__file__).resolve().parents[2]
PG_USER = "postgres"


def free_port() -> int:
    """A port nobody listens on now, on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    """Poll `predicate` until it is true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PrivateCluster:
    """A throw-away PostgreSQL cluster of our own, so stopping it disturbs nobody else's tests."""

    def __init__(self) -> None:
        bindir = _pg_bin()
        if bindir is None:
            if os.environ.get("CI"):
                pytest.fail("CI is set but no PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are installed")
            pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: outage and crash tests skipped")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="gateway-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/postgres"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            # initdb refuses to run as root: the cluster belongs to the postgres OS user.
            shutil.chown(self.root, PG_USER, PG_USER)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", PG_USER, "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", PG_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise AssertionError(f"{tool} failed: {result.stdout}\n{result.stderr}")

    def start(self) -> None:
        """Start (or restart) the server on its port and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server as a crash would (immediate) or politely (fast)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def new_database(self, name: str) -> str:
        """Create database `name` in the running cluster and migrate it; its URL."""
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        url = make_url(self.url).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        return url

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except AssertionError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


class Gunicorn:
    """The gateway as `make run` serves it (gunicorn.conf.py, wsgi:app), on a free loopback port."""

    def __init__(self, tmp_path: Path, database_url: str, token: str, workers: int = 2, **settings: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.instance = tmp_path / "instance"
        self.log_path = tmp_path / "gunicorn.log"
        self.env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
        self.env.update(
            {
                "PORT": str(self.port),
                "INSTANCE_PATH": str(self.instance),
                "DATABASE_URL": database_url,
                "TWILIO_AUTH_TOKEN": token,
                "API_TOKENS": "ops-api-token-0123456789",
                "KEYWORDS_FILE": str(ROOT / "keywords.yaml"),
                # The keys the test process reads the ledger with.
                "LEDGER_KEYS": LEDGER_KEY,
                "NUMBER_HASH_KEY": NUMBER_HASH_KEY,
                "WEB_CONCURRENCY": str(workers),
                **{f"GATEWAY_{key}": value for key, value in settings.items()},
            }
        )
        self.env.pop("PUBLIC_BASE_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(Path(sys.prefix) / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        wait_until(self._answers, 60, "gunicorn to answer /healthz")

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def workers(self) -> list[int]:
        """The worker pids of the running master."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
