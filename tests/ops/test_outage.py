"""No lost opt-out: PostgreSQL stops in the middle of a stream of signed STOPs and starts again."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from gateway import create_app, simulator
from storage import ConsentEvent, Database, InboundRow, Suppression
from storage.readiness import ping
from tests.conftest import KEYWORDS_FILE, LEDGER_KEY, NUMBER_HASH_KEY
from tests.ops.servers import Gunicorn, PrivateCluster, wait_until

TOKEN = "ops-twilio-token"
API_TOKEN = "ops-api-token-0123456789"
"""The API token tests/ops/servers.py gives its gunicorn."""
SENDER = "+18005550199"
PATH = "/webhooks/twilio/sms"
STREAM = 60
OUTAGE = range(20, 40)
"""Messages 20 to 39 arrive while PostgreSQL is down."""
FLIPPER = "+13125550111"
"""A number that writes STOP, START during the outage, then STOP after it: order must hold."""


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def check(server: Gunicorn, person: str) -> tuple[int, str]:
    """The pre-send check of `person` for SENDER, as a sending system calls it on this machine."""
    request = urllib.request.Request(
        f"{server.base}/api/v1/suppressions/{person}?sender={urllib.parse.quote(SENDER)}",
        headers={"Authorization": f"Bearer {API_TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def number(index: int) -> str:
    return f"+1415555{index:04d}"


def opt_outs_applied(database: Database) -> int:
    with database.begin() as session:
        return int(session.scalar(select(func.count()).select_from(Suppression)) or 0)


def test_no_opt_out_is_lost_when_postgresql_stops_mid_stream(
    private_pg: PrivateCluster, pg_database: str, tmp_path: Path
) -> None:
    # The flipper's second STOP confirmation would be withheld by the repeat limit; that is tested elsewhere.
    server = Gunicorn(tmp_path, pg_database, TOKEN, workers=2, REPEAT_REPLY_INTERVAL="0")
    server.start()
    database = Database(pg_database)
    forms = [simulator.inbound_form("STOP", number(i), SENDER) for i in range(STREAM)]
    flips = [simulator.inbound_form(body, FLIPPER, SENDER) for body in ("STOP", "START", "STOP")]
    answers: list[tuple[int, str]] = []
    extras: list[tuple[int, str]] = []
    try:
        stop_reply = simulator.post(server.base + PATH, flips[0], TOKEN)
        assert stop_reply[0] == 200 and "<Message>" in stop_reply[1]
        for index, form in enumerate(forms):
            if index == OUTAGE.start:
                private_pg.stop("immediate")
                assert get(server.base + "/readyz")[0] == 503
            if index == OUTAGE.start + 5:
                checks = [check(server, number(OUTAGE.start)), check(server, number(STREAM + 50))]
                extras.append(simulator.post(server.base + PATH, flips[1], TOKEN))
                # The provider retries a message the database already has: still applied once.
                extras.append(simulator.post(server.base + PATH, forms[3], TOKEN))
            if index == OUTAGE.stop:
                private_pg.start()
                extras.append(simulator.post(server.base + PATH, flips[2], TOKEN))
            answers.append(simulator.post(server.base + PATH, form, TOKEN))

        # Fail closed (issue 14): the machine that spooled a STOP reports it suppressed while the
        # database is down, and answers 503, never "allowed", for a number it cannot look up.
        spooled, unknown = checks
        assert spooled[0] == 200 and json.loads(spooled[1])["suppressed"] is True, spooled
        assert json.loads(spooled[1])["spooled_opt_out"] is True
        assert unknown[0] == 503 and "suppressed" not in json.loads(unknown[1]), unknown

        # Every delivery was answered as if nothing happened: 200 and the confirmation.
        assert all(status == 200 for status, _ in answers + extras), answers + extras
        assert {body for _, body in answers} == {stop_reply[1]}
        assert "subscribed again" in extras[0][1] and extras[1][1] == extras[2][1] == stop_reply[1]

        wait_until(lambda: opt_outs_applied(database) == STREAM + 1, 60, "every spooled STOP to be replayed")
        with database.begin() as session:
            for index in range(STREAM):
                events = session.scalars(select(ConsentEvent).where(ConsentEvent.number == number(index))).all()
                assert [(e.action, e.changed) for e in events] == [("opt_out", True)], number(index)
            assert session.scalar(select(func.count()).select_from(InboundRow)) == STREAM + 3
            flipper = session.scalars(
                select(ConsentEvent).where(ConsentEvent.number == FLIPPER).order_by(ConsentEvent.id)
            ).all()
            assert [(e.action, e.changed) for e in flipper] == [("opt_out", True), ("opt_in", True), ("opt_out", True)]

        status, body = get(server.base + "/readyz")
        assert status == 200, body
        wait_until(lambda: re.search(r"^gateway_spool_depth 0\.0$", get(server.base + "/metrics")[1], re.M), 30,
                   "the spool to drain")
        spooled = re.search(r"^gateway_spooled_messages_total (\d+)", get(server.base + "/metrics")[1], re.M)
        assert spooled and int(spooled.group(1)) >= len(OUTAGE) + 2
    finally:
        server.stop()
        database.dispose()

    log = server.log()
    assert "spooled" in log
    assert number(25) not in log and FLIPPER not in log, "phone numbers must be masked in the logs"
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(line.get("event") == "inbound" and line.get("spooled") for line in lines)


def test_spool_commands_show_and_replay_what_waits(private_pg: PrivateCluster, pg_database: str, tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": pg_database,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "API_TOKENS": ("ops-api-token-0123456789",),
            "KEYWORDS_FILE": str(KEYWORDS_FILE),
            "PUBLIC_BASE_URL": None,
            "SPOOL_PATH": str(tmp_path / "spool.db"),
            # A shared database takes its keys from the environment, never development keys.
            "LEDGER_KEYS": LEDGER_KEY, "NUMBER_HASH_KEY": NUMBER_HASH_KEY,
        }
    )
    client = app.test_client()
    runner: FlaskCliRunner = app.test_cli_runner()
    database = app.extensions["gateway.database"]
    try:
        private_pg.stop("fast")
        for index in range(3):
            form = simulator.inbound_form("STOP", number(index), SENDER)
            signature = simulator.sign("http://localhost" + PATH, form, TOKEN)
            response = client.post(PATH, data=form, headers={"X-Twilio-Signature": signature})
            assert response.status_code == 200 and b"<Message>" in response.data
        # Anything else that needs the database says 503, not 500; a spooled STOP (issue 14: fail
        # closed) is answered suppressed by the machine that holds it.
        bearer = {"Authorization": "Bearer ops-api-token-0123456789"}
        assert client.get(f"/api/v1/suppressions/{number(STREAM)}", headers=bearer).status_code == 503
        spooled = client.get(f"/api/v1/suppressions/{number(0)}", headers=bearer)
        assert spooled.status_code == 200 and spooled.json["suppressed"] is True  # type: ignore[index]

        status = runner.invoke(args=["spool", "status"])
        assert "3 pending" in status.output, status.output
        failed = runner.invoke(args=["spool", "replay"])
        assert failed.exit_code == 1 and "still wait" in failed.output

        private_pg.start()
        replayed = runner.invoke(args=["spool", "replay"])
        # The worker's own replay thread may have been first; either way nothing waits now.
        wait_until(lambda: "0 pending" in runner.invoke(args=["spool", "status"]).output, 30, "an empty spool")
        assert replayed.exit_code in (0, 1), replayed.output
        assert opt_outs_applied(database) == 3
    finally:
        if not _answers(private_pg):
            private_pg.start()
        app.extensions["gateway.spool"].close()
        database.dispose()


def _answers(cluster: PrivateCluster) -> bool:
    database = Database(cluster.url)
    try:
        with database.begin() as session:
            ping(session)
        return True
    except Exception:  # noqa: BLE001
        return False
    finally:
        database.dispose()


def test_a_database_that_hangs_hands_over_to_the_spool(tmp_path: Path) -> None:
    # A port that completes TCP handshakes but never speaks: a database behind a network partition.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/gateway"
        app = create_app(
            {
                "TESTING": True, "DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "API_TOKENS": ("ops-api-token-0123456789",),
                "KEYWORDS_FILE": str(KEYWORDS_FILE), "PUBLIC_BASE_URL": None, "SPOOL_PATH": str(tmp_path / "spool.db"),
                "DB_CONNECT_TIMEOUT": 2, "LEDGER_KEYS": LEDGER_KEY, "NUMBER_HASH_KEY": NUMBER_HASH_KEY,
            }
        )
        form = simulator.inbound_form("STOP", number(1), SENDER)
        signature = simulator.sign("http://localhost" + PATH, form, TOKEN)
        response = app.test_client().post(PATH, data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200 and b"<Message>" in response.data
        spool = app.extensions["gateway.spool"]
        assert spool.spool.depth() == 1
        spool.close()

        # Right after a failed replay, a burst goes straight to the spool: no request waits for a connect.
        assert spool.replay().pending == 1
        assert _accepted(silent) >= 1
        assert spool.caught_up() is False
        assert _accepted(silent) == 0
        app.extensions["gateway.database"].dispose()


def _accepted(listener: socket.socket) -> int:
    """How many connections reached the silent port since the last call."""
    listener.setblocking(False)
    count = 0
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1
