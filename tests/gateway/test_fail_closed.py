"""Fail-closed pre-send checks: a spooled opt-out counts, and a database that cannot be read is never "allowed".

A STOP kept in the spool during an outage has been confirmed to the person already; until it is
replayed, this machine's check and scrub answer suppressed for it. With the database unreadable,
every other number gets 503 and Retry-After. (tests/ops/test_outage.py does the same against a
PostgreSQL server it stops itself.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway import create_app
from gateway.addresses import Address
from gateway.inbound.spool import InboundSpool
from gateway.messages import InboundMessage
from gateway.simulator import new_sid
from storage import Database
from tests.conftest import API_TOKEN, KEYWORDS_FILE, LEDGER_KEY, NUMBER_HASH_KEY, TWILIO_TOKEN
from tests.helpers import Api

UNREACHABLE = "postgresql+psycopg://gateway@127.0.0.1:1/nowhere"
PERSON, OTHER_PERSON = "+14155550100", "+14155550177"
SENDER, OTHER_SENDER = "+18005550199", "+18005550111"


def spool_while_down(app: Flask, body: str, number: str = PERSON, to: str = SENDER) -> None:
    """`body` from `number` goes to this machine's spool, as the webhook keeps it while the database is down."""
    path = app.extensions["gateway.inbound"]
    rules = path.rules.current
    down = Database(UNREACHABLE)
    keeper = InboundSpool(path.spool.spool, down)
    message = InboundMessage("twilio", new_sid(), Address(number, "e164"), Address(to, "e164"), body, (to,))
    decision = rules.classify(body)
    assert keeper.keep(message, decision, rules.version, rules.reply_for(decision, to)).spooled
    keeper.close()
    down.dispose()


def test_a_spooled_stop_is_suppressed_before_it_is_replayed(app: Flask, client: FlaskClient) -> None:
    spool_while_down(app, "STOP")
    spool_while_down(app, "thanks", number=OTHER_PERSON)  # no opt-out: nothing to count
    api = Api(client)
    answer = api.suppression(PERSON, SENDER).json
    assert answer["suppressed"] is True and answer["spooled_opt_out"] is True and answer["spool_pending"] is True
    assert api.suppression(PERSON).json["suppressed"] is True  # no sender named: any suppression counts
    # The opt-out covers the number written to, not another sender; nor does it cover another person.
    assert api.suppression(PERSON, OTHER_SENDER).json["suppressed"] is False
    assert api.suppression(OTHER_PERSON, SENDER).json["suppressed"] is False
    scrubbed = client.post(f"/api/v1/scrub?sender={SENDER}", json={"numbers": [PERSON, OTHER_PERSON]},
                           headers={"Authorization": f"Bearer {API_TOKEN}"}).json
    assert (scrubbed["suppressed"], scrubbed["allowed"]) == ([PERSON], [OTHER_PERSON])
    # Replayed, the database says the same and the spool has nothing left to add.
    assert app.extensions["gateway.inbound"].spool.replay().pending == 0
    answer = api.suppression(PERSON, SENDER).json
    assert answer["suppressed"] is True and "spooled_opt_out" not in answer and answer["spool_pending"] is False


def test_a_spooled_stopall_covers_every_sender(app: Flask, client: FlaskClient) -> None:
    spool_while_down(app, "STOPALL")
    assert Api(client).suppression(PERSON, OTHER_SENDER).json["spooled_opt_out"] is True


@pytest.fixture
def down_app(tmp_path: Path) -> Iterator[Flask]:
    """This machine while its database cannot be reached at all."""
    app = create_app({
        "TESTING": True, "DATABASE_URL": UNREACHABLE, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "API_TOKENS": (API_TOKEN,),
        "LEDGER_KEYS": LEDGER_KEY, "NUMBER_HASH_KEY": NUMBER_HASH_KEY, "KEYWORDS_FILE": str(KEYWORDS_FILE),
        "PUBLIC_BASE_URL": None, "SPOOL_PATH": str(tmp_path / "spool.db"), "DB_CONNECT_TIMEOUT": 1,
    })
    yield app
    app.extensions["gateway.database"].dispose()


def test_an_unreadable_database_is_never_allowed(down_app: Flask) -> None:
    client = down_app.test_client()
    spool_while_down(down_app, "STOP")
    api = Api(client)
    refused = api.suppression(OTHER_PERSON, SENDER)
    assert refused.status_code == 503 and refused.headers["Retry-After"].isdigit() and "suppressed" not in refused.json
    scrub = client.post(f"/api/v1/scrub?sender={SENDER}", json={"numbers": [OTHER_PERSON]},
                        headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert scrub.status_code == 503
    # The spooled opt-out is still answered, and answered suppressed.
    answer = api.suppression(PERSON, SENDER)
    assert answer.status_code == 200 and answer.json["suppressed"] is True and answer.json["spooled_opt_out"] is True
