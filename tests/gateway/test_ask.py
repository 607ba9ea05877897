"""A re-subscribe reached only by a typo or a loose phrase asks for START and changes nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from storage.models import ConsentEvent
from tests.helpers import Api, Twilio

PERSON = "+14155550100"
SENDER = "+18005550100"


def events(app: Flask) -> int:
    with app.extensions["gateway.database"].begin() as session:
        return int(session.scalar(select(func.count()).select_from(ConsentEvent)) or 0)


@pytest.mark.parametrize("body", ["STRAT", "subscribe", "sign me up"], ids=["typo", "bare-subscribe", "loose-phrase"])
def test_an_ask_after_stop_asks_for_start_and_lifts_nothing(app: Flask, client: FlaskClient, body: str) -> None:
    twilio = Twilio(client)
    twilio.sms("STOP", from_=PERSON, to=SENDER)
    before = events(app)
    decision = app.extensions["gateway.rules"].current.classify(body)
    assert (decision.intent, decision.action) == ("opt_in", "ask"), decision
    answer = twilio.sms(body, from_=PERSON, to=SENDER).data.decode()
    assert "<Message>" in answer and "START" in answer, answer
    assert Api(client).suppression(PERSON, SENDER).json["suppressed"] is True
    assert events(app) == before
    # START itself still re-subscribes.
    twilio.sms("START", from_=PERSON, to=SENDER)
    assert Api(client).suppression(PERSON, SENDER).json["suppressed"] is False


@pytest.mark.parametrize("body", ["STOP xyzzy", "cancel netflix"], ids=["unknown-word", "other-service"])
def test_a_keyword_with_unknown_words_is_answered_with_how_to_stop_and_changes_nothing(
        app: Flask, client: FlaskClient, body: str) -> None:
    twilio = Twilio(client)
    decision = app.extensions["gateway.rules"].current.classify(body)
    assert (decision.intent, decision.action, decision.tier) == ("none", "hint", "shape"), decision
    answer = twilio.sms(body, from_=PERSON, to=SENDER).data.decode()
    assert "<Message>" in answer and "reply STOP" in answer, answer
    assert Api(client).suppression(PERSON, SENDER).json["suppressed"] is False
    assert events(app) == 0
    # Sent again at once, the same hint is not repeated (the repeat limit), and still nothing changes.
    again = twilio.sms(body, from_=PERSON, to=SENDER).data.decode()
    assert "<Message>" not in again, again
    assert events(app) == 0


def test_no_hint_to_someone_already_opted_out(app: Flask, client: FlaskClient) -> None:
    twilio = Twilio(client)
    twilio.sms("STOP", from_=PERSON, to=SENDER)
    answer = twilio.sms("STOP xyzzy", from_=PERSON, to=SENDER).data.decode()
    assert "<Message>" not in answer, answer
