"""`flask simulate` without a gateway listening: a one-line reason, not a traceback."""

from __future__ import annotations

import socket

from flask import Flask
from flask.testing import FlaskCliRunner


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_simulate_with_no_gateway_says_so(app: Flask, runner: FlaskCliRunner) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    with app.app_context():  # the `flask` command pushes one; the test runner does not
        result = runner.invoke(args=["simulate", "STOP", "--url", base])
    assert result.exit_code == 1
    assert f"no gateway answered at {base}" in result.output and "make run" in result.output
    assert "Traceback" not in result.output
