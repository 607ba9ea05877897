"""Erasure: afterwards nothing readable says who the person was or what they wrote, yet they stay blocked."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import text

from storage import Base, crypto
from tests.conftest import API_TOKEN
from tests.helpers import STATUS_PATH, Api, Twilio

PERSON = "+14155550166"  # the recipient of the captured status_21610 payload
NEIGHBOUR = "+14155550177"
SENDER = "+15125550188"
SECRET_WORDS = "pineapple-7731"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
PAYLOADS = Path(__file__).parent.parent / "gateway" / "payloads" / "twilio"


def traces(app: Flask, *needles: str) -> list[str]:
    """Every cell of every table (Fernet tokens decrypted with the real keys) that contains a needle."""
    found = []
    keyring = crypto.current()
    with app.extensions["gateway.database"].begin() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(text(f"SELECT * FROM {table.name}")).mappings():
                for name, value in row.items():
                    cell = str(value)
                    if isinstance(value, str) and crypto.is_ciphertext(value):
                        cell = keyring.decrypt(value)
                    digits = re.sub(r"\D", "", cell)
                    for needle in needles:
                        if needle in cell or (needle.isdigit() and needle in digits):
                            found.append(f"{table.name}.{name}: {cell[:80]}")
    return found


def produce_history(app: Flask, client: FlaskClient) -> None:
    """Messages, a carrier opt-out, a link and a link choice: every place a number can land."""
    twilio = Twilio(client)
    twilio.sms(f"STOP {SECRET_WORDS}", from_=PERSON, to=SENDER)
    twilio.sms("START", from_=PERSON, to=SENDER)
    twilio.sms("STOP", from_=NEIGHBOUR, to=SENDER)
    report = json.loads((PAYLOADS / "status_21610.json").read_text())
    assert twilio.post(report, STATUS_PATH).status_code == 204
    app.config["SECRET_KEY"] = "test-secret-key-for-links"
    minted = client.post("/api/v1/links", json={"number": PERSON, "sender": SENDER}, headers=AUTH)
    assert minted.status_code in (200, 201), minted.data


def test_erasure_leaves_no_readable_trace_keeps_blocking_and_verifies(app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    produce_history(app, client)
    assert traces(app, "4155550166") and traces(app, SECRET_WORDS)  # the check can see them before

    result = runner.invoke(args=["ledger", "erase", PERSON, "--reason", "request #17", "--actor", "dpo"])
    assert result.exit_code == 0, result.output

    assert traces(app, "4155550166", "5550166", SECRET_WORDS) == []
    assert traces(app, "4155550177")  # the neighbour is untouched
    api = Api(client)
    for sender in (SENDER, "+18005550111", None):
        assert api.suppression(PERSON, sender).json["suppressed"] is True
    scrub = client.post("/api/v1/scrub", json={"numbers": [PERSON, "+14155550199"], "sender": SENDER}, headers=AUTH)
    assert scrub.json["suppressed"] == [PERSON]
    verify = runner.invoke(args=["ledger", "verify"])
    assert verify.exit_code == 0, verify.output


def test_an_erased_person_who_writes_again_is_still_blocked_until_they_opt_in(app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    twilio = Twilio(client)
    twilio.sms("STOP", from_=PERSON, to=SENDER)
    assert runner.invoke(args=["ledger", "erase", PERSON, "--reason", "r"]).exit_code == 0
    twilio.sms("hello?", from_=PERSON, to=SENDER)
    assert Api(client).suppression(PERSON, SENDER).json["suppressed"] is True
    twilio.sms("START", from_=PERSON, to=SENDER)
    assert Api(client).suppression(PERSON, SENDER).json["suppressed"] is False
    history = runner.invoke(args=["ledger", "history", PERSON, "--format", "json"])
    actions = [event["action"] for event in json.loads(history.output)["events"]]
    assert actions == ["opt_out", "opt_out", "erase", "opt_in", "opt_in"]
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
