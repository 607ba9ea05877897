"""After an erasure nothing anywhere holds the number or its words, whatever arrives later, and it stays blocked.

The scan reads every column of every table (Fernet tokens decrypted with the real keys), every row
of this machine's spool, and on SQLite the raw bytes of the database and spool files after a
truncating WAL checkpoint. Between the erasure and the scan come what brought the number back
before: the provider retrying pre-erasure deliveries (the lock row was taken before the retry was
recognised) and a suppression list re-imported with the number on it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import create_engine, make_url, select, text

from gateway.addresses import Address
from gateway.messages import InboundMessage
from gateway.inbound.spool import InboundSpool
from storage import GLOBAL_SCOPE, ConsentEvent, Database, Suppression, crypto
from storage.ledger import import_chain
from storage.consent.bulk import ImportRow, import_suppressions
from storage.consent import suppression_status
from storage.erasure import erase
from storage.ledger import verify_chain
from tests.conftest import API_TOKEN
from tests.helpers import STATUS_PATH, Api, Twilio
from gateway import simulator

PERSON = "+14155550166"  # the recipient of the captured status_21610 payload
NEIGHBOUR = "+14155550177"
SENDER, OTHER_SENDER = "+15125550188", "+18005550111"
BODY_WORDS = ("pineapple-7731", "papaya-2208", "mango-4410")
NUMBER_FORMS = ("+14155550166", "14155550166", "4155550166", "415-555-0166", "415 555 0166", "415.555.0166",
                "(415) 555-0166", "(415)555-0166", "5550166", "555-0166", "555 0166", "555.0166")
REASON = "request #17, from (415) 555-0166 by email"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
PAYLOADS = Path(__file__).parent.parent / "gateway" / "payloads" / "twilio"
TOKEN = re.compile(r"gAAAAA[A-Za-z0-9_\-=]+")
UNREACHABLE = "postgresql+psycopg://gateway@127.0.0.1:1/nowhere"


def _decrypted(value: str) -> str:
    """The text with every Fernet token in it replaced by its plaintext."""
    return TOKEN.sub(lambda token: crypto.current().decrypt(token.group()), value)


def _found(where: str, value: object, needles: tuple[str, ...]) -> list[str]:
    cell = _decrypted(value.decode(errors="replace") if isinstance(value, bytes) else str(value))
    digits = re.sub(r"\D", "", cell)
    return [f"{where}: {needle!r} in {cell[:100]!r}" for needle in needles
            if needle in cell or (needle.isdigit() and len(needle) >= 10 and needle in digits)]


def _sqlite_rows(path: str) -> Iterator[tuple[str, object]]:
    connection = sqlite3.connect(path)
    try:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')
            names = [column[0] for column in cursor.description]
            for row in cursor:
                yield from ((f"{table}.{name}", value) for name, value in zip(names, row) if value is not None)
    finally:
        connection.close()


def _postgres_rows(url: str) -> Iterator[tuple[str, object]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).all()
            for table in tables:
                # Every column of the row at once, as PostgreSQL prints a row.
                for row in connection.scalars(text(f'SELECT t::text FROM "{table}" t')):
                    yield table, row
    finally:
        engine.dispose()


def _raw_bytes(path: str) -> bytes:
    connection = sqlite3.connect(path)
    busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    connection.close()
    assert busy == 0, f"{path}: a reader kept the checkpoint from finishing"
    files = [Path(path + suffix) for suffix in ("", "-wal", "-shm")]
    return b"".join(file.read_bytes() for file in files if file.exists())


def traces(app: Flask, needles: tuple[str, ...]) -> list[str]:
    """Where any needle is still readable: database rows, spool rows, raw SQLite bytes."""
    url = app.config["DATABASE_URL"]
    spool_path = app.config["SPOOL_PATH"]
    app.extensions["gateway.database"].dispose()
    app.extensions["gateway.spool"].spool.close()
    database_rows = _sqlite_rows(make_url(url).database or "") if url.startswith("sqlite") else _postgres_rows(url)
    found = [hit for where, value in database_rows for hit in _found(where, value, needles)]
    found += [hit for where, value in _sqlite_rows(spool_path) for hit in _found(f"spool {where}", value, needles)]
    files = [spool_path] + ([make_url(url).database or ""] if url.startswith("sqlite") else [])
    for file in files:
        raw = _raw_bytes(file)
        found += [f"raw bytes of {Path(file).name}: {needle!r}" for needle in needles if needle.encode() in raw]
    return found


def spooled(app: Flask, body: str, number: str) -> None:
    """A message from `number` waits in this machine's spool (its database was down when it came)."""
    down = Database(UNREACHABLE)
    keeper = InboundSpool(app.extensions["gateway.spool"].spool, down)
    rules = app.extensions["gateway.rules"].current
    message = InboundMessage("twilio", simulator.new_sid(), Address(number, "e164"), Address(SENDER, "e164"), body, (SENDER,))
    decision = rules.classify(body)
    keeper.keep(message, decision, rules.version, rules.reply_for(decision, SENDER))
    keeper.close()
    down.dispose()


def history(app: Flask, client: FlaskClient) -> list[tuple[dict[str, str], str]]:
    """Everything a number reaches before its erasure; the deliveries the provider may retry later."""
    twilio = Twilio(client)
    deliveries = [
        (simulator.inbound_form(f"STOP {BODY_WORDS[0]}", PERSON, SENDER), "/webhooks/twilio/sms"),
        (simulator.inbound_form("START", PERSON, SENDER), "/webhooks/twilio/sms"),
        # JOIN takes the general consent path, not the batched one.
        (simulator.inbound_form(f"JOIN {BODY_WORDS[1]}", PERSON, OTHER_SENDER), "/webhooks/twilio/sms"),
        (simulator.inbound_form("JOIN", PERSON, OTHER_SENDER), "/webhooks/twilio/sms"),
        (json.loads((PAYLOADS / "status_21610.json").read_text()), STATUS_PATH),
    ]
    for form, path in deliveries:
        assert twilio.post(form, path).status_code in (200, 204)
    assert twilio.sms("STOP", from_=NEIGHBOUR, to=SENDER).status_code == 200
    app.config["SECRET_KEY"] = "test-secret-key-for-links"
    minted = client.post("/api/v1/links", json={"number": PERSON, "sender": SENDER}, headers=AUTH)
    assert minted.status_code in (200, 201), minted.data
    spooled(app, f"START {BODY_WORDS[2]}", PERSON)
    spooled(app, "HELP", NEIGHBOUR)
    return deliveries


@pytest.mark.parametrize("how", ["cli", "api"])
def test_nothing_of_an_erased_number_is_left_anywhere_and_it_stays_blocked(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, how: str
) -> None:
    deliveries = history(app, client)
    assert traces(app, NUMBER_FORMS[:1]) and traces(app, BODY_WORDS[:1])  # the scan sees them before

    if how == "cli":
        result = runner.invoke(args=["ledger", "erase", PERSON, "--reason", REASON, "--actor", "dpo"])
        assert result.exit_code == 0, result.output
    else:
        answer = client.post("/api/v1/erasures", json={"number": PERSON, "reason": REASON}, headers=AUTH)
        assert answer.status_code == 200, answer.data
    # The provider retries deliveries it sent before the erasure; staff re-import an old list with the number.
    twilio = Twilio(client)
    for form, path in deliveries:
        assert twilio.post(form, path).status_code in (200, 204)
    imported = client.post("/api/v1/imports", query_string={"sender": SENDER}, headers={**AUTH, "Content-Type": "text/csv"},
                           data=b"phone_number,sender,topic\n(415) 555-0166,,\n415.555.0166,+18005550111,promos\n")
    assert imported.status_code == 201, imported.data

    assert traces(app, NUMBER_FORMS + BODY_WORDS) == []
    # The neighbour is untouched; the webhooks replayed its spooled message (and the person's was gone).
    assert traces(app, ("4155550177",))
    assert app.extensions["gateway.spool"].spool.depth() == 0
    api = Api(client)
    for sender in (SENDER, OTHER_SENDER, "+18005550122", None):
        assert api.suppression(PERSON, sender).json["suppressed"] is True
    with app.extensions["gateway.database"].begin() as session:
        assert suppression_status(session, PERSON, OTHER_SENDER, "promos").suppressed
    scrub = client.post("/api/v1/scrub", json={"numbers": [PERSON, "+14155550199"], "sender": SENDER}, headers=AUTH)
    assert scrub.json["suppressed"] == [PERSON]
    verify = runner.invoke(args=["ledger", "verify"])
    assert verify.exit_code == 0, verify.output
    # The reason is kept, encrypted, and without the number it mentioned.
    record = json.loads(runner.invoke(args=["ledger", "history", PERSON, "--format", "json"]).output)
    [erased] = [event for event in record["events"] if event["action"] == "erase"]
    assert erased["explanation"]["reason"].startswith("request #17, from ") and erased["rule"] is None


@pytest.mark.parametrize("helper_rows", [import_chain.HELPER_ROWS, 1], ids=["hashed-here", "hashed-in-a-helper"])
def test_a_reimported_erased_number_is_stored_as_its_pseudonym(database: Database, monkeypatch: pytest.MonkeyPatch,
                                                               helper_rows: int) -> None:
    monkeypatch.setattr(import_chain, "HELPER_ROWS", helper_rows)
    with database.begin() as session:
        erase(session, PERSON, actor="dpo", reason="request 5")
    rows = [ImportRow(2, PERSON, GLOBAL_SCOPE), ImportRow(3, PERSON, SENDER, "promos"), ImportRow(4, NEIGHBOUR, SENDER)]
    with database.begin() as session:
        result = import_suppressions(session, rows, actor="ops")
    # The erasure's own global opt-out already covered line 2.
    assert (result.added, result.already) == (2, 1)
    pseudonym = crypto.current().pseudonym(PERSON)
    with database.begin() as session:
        numbers = sorted(session.scalars(select(Suppression.number)))
        events = session.scalars(select(ConsentEvent.number).where(ConsentEvent.source == "import")).all()
        assert numbers == sorted([pseudonym, pseudonym, NEIGHBOUR])
        assert sorted(events) == sorted([pseudonym, pseudonym, NEIGHBOUR])
        assert suppression_status(session, PERSON, SENDER, "promos").suppressed
        assert verify_chain(session).ok
