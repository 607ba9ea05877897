"""Twilio status callbacks: error 21610 means the recipient opted out at the carrier."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from storage import ConsentEvent
from tests.helpers import STATUS_PATH, Api, Twilio

PAYLOADS = Path(__file__).parent / "payloads" / "twilio"


def form(name: str) -> dict[str, str]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def test_error_21610_suppresses_the_recipient(app: Flask, client: FlaskClient) -> None:
    twilio = Twilio(client)
    report = form("status_21610")
    assert twilio.post(report, STATUS_PATH).status_code == 204
    assert twilio.post(report, STATUS_PATH).status_code == 204  # Twilio retries callbacks
    api = Api(client)
    for sender in ("+15125550188", "MGa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"):
        body = api.suppression("+14155550166", sender).json
        assert body["suppressed"] is True
        assert body["reason"] == "provider_report"
    with app.extensions["gateway.database"].begin() as session:
        events = session.scalars(select(ConsentEvent)).all()
        assert len(events) == 2  # one per scope, none for the retry
        assert {event.source for event in events} == {"provider_report"}


def test_delivered_status_changes_nothing(client: FlaskClient) -> None:
    assert Twilio(client).post(form("status_delivered"), STATUS_PATH).status_code == 204
    assert Api(client).suppression("+14155550166").json["suppressed"] is False


def test_unsigned_status_callback_is_refused(client: FlaskClient) -> None:
    response = Twilio(client).post(form("status_21610"), STATUS_PATH, signed=False)
    assert response.status_code == 403
    assert Api(client).suppression("+14155550166").json["suppressed"] is False
