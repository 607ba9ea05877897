"""`make run` end to end: gunicorn serves, a simulated STOP is confirmed, the API then says suppressed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NUMBER = "+14155550100"
SENDER = "+18005550199"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"make run exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("gateway did not start listening")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "TWILIO_AUTH_TOKEN", "API_TOKENS", "PUBLIC_BASE_URL"}}
    env.update({"PORT": str(port), "INSTANCE_PATH": str(tmp_path / "instance"), "VENV": str(Path(sys.prefix))})
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, process)
        yield port, env
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def simulate(env: dict[str, str], body: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "simulate", body, "--from", NUMBER, "--to", SENDER],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def check(port: int, env: dict[str, str]) -> dict[str, object]:
    token = (Path(env["INSTANCE_PATH"]) / "api_token").read_text().strip()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/suppressions/{NUMBER}?sender=%2B18005550199",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)  # type: ignore[no-any-return]


def test_make_run_stop_and_start(served: tuple[int, dict[str, str]]) -> None:
    port, env = served
    instance = Path(env["INSTANCE_PATH"])
    assert (instance / "twilio_auth_token").stat().st_mode & 0o077 == 0
    assert (instance / "gateway.db").exists()

    answer = simulate(env, "STOP")
    assert "HTTP 200" in answer and "<Message>" in answer
    assert check(port, env)["suppressed"] is True

    answer = simulate(env, "START")
    assert "<Message>" in answer
    assert check(port, env)["suppressed"] is False
