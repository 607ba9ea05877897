"""Double opt-in through the webhook: JOIN asks for a YES, YES in time confirms, anything else changes nothing."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

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
