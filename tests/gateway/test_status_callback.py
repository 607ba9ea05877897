"""Twilio status callbacks: error 21610 means the recipient opted out at the carrier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from storage import ConsentEvent
from tests.conftest import TWILIO_TOKEN
from tests.gateway.test_twilio_resplit import absorb, signed_string
from tests.helpers import BASE, STATUS_PATH, Api, Twilio

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


SERVICE = "MGa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
RECIPIENT = "+14155550166"


def without(report: dict[str, str], *names: str) -> dict[str, str]:
    return {key: value for key, value in report.items() if key not in names}


def events(app: Flask) -> list[ConsentEvent]:
    with app.extensions["gateway.database"].begin() as session:
        return list(session.scalars(select(ConsentEvent)).all())


@pytest.mark.parametrize(("changes", "reason"), [
    pytest.param({"MessageStatus": None}, "missing field MessageStatus", id="missing-status"),
    pytest.param({"MessageSid": None}, "missing field MessageSid", id="missing-message-sid"),
    pytest.param({"MessageSid": "SM71a2b3c4"}, "MessageSid: not a Twilio SID", id="short-message-sid"),
    pytest.param({"SmsSid": "SM" + "0" * 32}, "SmsSid: differs from MessageSid", id="sms-sid-differs"),
    pytest.param({"MessageStatus": "Undelivered"}, "MessageStatus", id="status-not-twilio-shape"),
])
def test_a_report_without_its_id_or_status_is_refused(
    app: Flask, client: FlaskClient, changes: dict[str, str | None], reason: str
) -> None:
    report = {**without(form("status_21610"), *changes), **{k: v for k, v in changes.items() if v is not None}}
    response = Twilio(client).post(report, STATUS_PATH)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert events(app) == []


@pytest.mark.parametrize(("changes", "senders"), [
    pytest.param({"From": None}, (SERVICE,), id="no-from"),
    pytest.param({"From": "not a number!"}, (SERVICE,), id="unparsable-from"),
    pytest.param({"MessagingServiceSid": "MG-garbage"}, ("+15125550188",), id="bad-service-sid"),
    pytest.param({"From": None, "MessagingServiceSid": None}, ("+15125550188", "+18005550199", SERVICE),
                 id="no-sender-at-all"),
    pytest.param({"AccountSid": None, "ApiVersion": None, "SmsSid": None, "SmsStatus": None}, ("+15125550188", SERVICE),
                 id="only-the-fields-a-decision-reads"),
])
def test_a_signed_opt_out_missing_other_fields_is_never_refused(
    client: FlaskClient, changes: dict[str, str | None], senders: tuple[str, ...]
) -> None:
    report = {**without(form("status_21610"), *changes), **{k: v for k, v in changes.items() if v is not None}}
    assert Twilio(client).post(report, STATUS_PATH).status_code == 204
    for sender in senders:
        assert Api(client).suppression(RECIPIENT, sender).json["suppressed"] is True, sender


def test_an_opt_out_without_a_recipient_is_answered_and_logged(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = Twilio(client).post(without(form("status_21610"), "To"), STATUS_PATH)
    assert response.status_code == 204
    assert events(app) == []
    assert "names no phone number in To" in caplog.text


def test_a_resplit_status_report_changes_nothing(app: Flask, client: FlaskClient) -> None:
    twilio = Twilio(client)
    report = list(form("status_21610").items())
    assert twilio.post(report, STATUS_PATH).status_code == 204
    url = BASE + STATUS_PATH
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, MultiDict(report))
    # MessageStatus swallows MessagingServiceSid: a "new" status for the same message.
    swallowed = absorb(report, "MessageStatus", "MessagingServiceSid")
    # From cut off as a field "F" = "rom+1…" (sorted between ErrorCode and From): the report without its sender.
    values = dict(report)
    cut = [(k, v) for k, v in report if k != "From"] + [("F", "rom" + values["From"])]
    for resplit, status in ((swallowed, 400), (cut, 204)):
        assert signed_string(resplit) == signed_string(report)
        assert RequestValidator(TWILIO_TOKEN).compute_signature(url, MultiDict(resplit)) == signature
        assert twilio.post(resplit, STATUS_PATH, signature=signature).status_code == status
    assert len(events(app)) == 2  # the first report's two scopes, nothing since
