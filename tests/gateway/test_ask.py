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
