"""Double opt-in through the webhook: JOIN asks for a YES, YES in time confirms, anything else changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Flask
from flask.testing import FlaskClient

from gateway.addresses import Address
from gateway.inbound.spool import InboundSpool
from gateway.messages import InboundMessage
from gateway.simulator import new_sid
from storage import Database
from storage.subscriptions import states
from tests.helpers import Api, Twilio

PERSON = "+14155550100"
SENDER = "+18005550199"


def subscription(app: Flask) -> list[str]:
    with app.extensions["gateway.database"].begin() as session:
        return [s.status for s in states(session, PERSON)]


def reply(answer: object) -> str:
    return answer.data.decode()  # type: ignore[attr-defined, no-any-return]


def test_join_then_yes_confirms(app: Flask, client: FlaskClient) -> None:
    twilio = Twilio(client)
    asked = twilio.sms("JOIN", from_=PERSON, to=SENDER)
    assert "<Message>" in reply(asked)
    assert subscription(app) == ["pending"]
    confirmed = twilio.sms("YES", from_=PERSON, to=SENDER)
    assert "<Message>" in reply(confirmed) and reply(confirmed) != reply(asked)
    assert subscription(app) == ["subscribed"]


def test_unsolicited_yes_gets_no_answer_and_changes_nothing(app: Flask, client: FlaskClient) -> None:
    Twilio(client).sms("STOP", from_=PERSON, to=SENDER)
    answer = Twilio(client).sms("YES", from_=PERSON, to=SENDER)
    assert "<Message>" not in reply(answer)
    assert subscription(app) == [] and Api(client).suppression(PERSON, SENDER).json["suppressed"] is True


def test_late_yes_gets_no_answer(app: Flask, client: FlaskClient) -> None:
    app.config["DOUBLE_OPT_IN_HOURS"] = 0  # the window closes as it opens
    Twilio(client).sms("JOIN", from_=PERSON, to=SENDER)
    answer = Twilio(client).sms("YES", from_=PERSON, to=SENDER)
    assert "<Message>" not in reply(answer)
    assert subscription(app) == ["expired"]


def test_stop_while_pending_then_yes(app: Flask, client: FlaskClient) -> None:
    twilio = Twilio(client)
    twilio.sms("JOIN", from_=PERSON, to=SENDER)
    twilio.sms("STOP", from_=PERSON, to=SENDER)
    assert subscription(app) == []
    assert "<Message>" not in reply(twilio.sms("YES", from_=PERSON, to=SENDER))
    assert Api(client).suppression(PERSON, SENDER).json["suppressed"] is True


def test_a_join_replayed_from_the_spool_gets_the_configured_window(app: Flask) -> None:
    """The drift the one InboundPath fixed: a JOIN spooled during an outage used to get 24 hours on replay."""
    app.config["DOUBLE_OPT_IN_HOURS"] = 48
    path = app.extensions["gateway.inbound"]
    rules = path.rules.current
    down = Database("postgresql+psycopg://gateway@127.0.0.1:1/nowhere")
    keeper = InboundSpool(path.spool.spool, down)  # this machine's spool, its database unreachable
    message = InboundMessage("twilio", new_sid(), Address(PERSON, "e164"), Address(SENDER, "e164"), "JOIN", (SENDER,))
    decision = rules.classify("JOIN")
    assert keeper.keep(message, decision, rules.version, path.rules.current.reply("join", "en", SENDER)).spooled
    keeper.close()
    down.dispose()
    assert path.spool.replay().applied == 1
    with app.extensions["gateway.database"].begin() as session:
        [pending] = states(session, PERSON)
    assert pending.status == "pending" and pending.expires_at is not None
    assert timedelta(hours=47) < pending.expires_at - datetime.now(timezone.utc) <= timedelta(hours=48)
