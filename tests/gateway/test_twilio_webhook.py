"""The Twilio inbound webhook, driven by a table of captured payloads on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gateway import config
from storage import ConsentEvent, InboundRow, Suppression
from tests.helpers import BASE, SMS_PATH, STATUS_PATH, Twilio

PAYLOADS = Path(__file__).parent / "payloads" / "twilio"
Form = list[tuple[str, str]]


def payload(name: str) -> Form:
    return list(json.loads((PAYLOADS / f"{name}.json").read_text()).items())


def replace(form: Form, **fields: str) -> Form:
    return [(key, fields.pop(key) if key in fields else value) for key, value in form] + list(fields.items())


def without(form: Form, *names: str) -> Form:
    return [(key, value) for key, value in form if key not in names]


@dataclass(frozen=True)
class Row:
    payload: str
    status: int = 200
    reply: str | None = None
    """The reply kind expected (opt_out, opt_out_all, opt_in, help), or None for an empty <Response/>."""
    suppressed: tuple[tuple[str, str], ...] = ()
    """(number, sender) pairs the API must then report as suppressed."""
    recorded: bool = True
    reason: str | None = None
    mutate: Callable[[Form], Form] = field(default=lambda form: form)
    signed: bool = True
    signature: str | None = None
    sign_url: str | None = None


ROWS = {
    "stop": Row("sms_stop", reply="opt_out", suppressed=(("+14155550100", "+18005550199"),)),
    "start": Row("sms_start", reply="opt_in"),
    "help": Row("sms_help", reply="help"),
    "conversation": Row("sms_chat"),
    "mms-stop-with-media": Row("mms_stop_with_media", reply="opt_out", suppressed=(("+14155550123", "+18005550199"),)),
    "messaging-service-stop": Row(
        "service_stop",
        reply="opt_out",
        suppressed=(("+15125550142", "MGa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"), ("+15125550142", "+15125550188")),
    ),
    "short-code-stop": Row("short_code_stop", reply="opt_out", suppressed=(("+13125550177", "86753"),)),
    "alphanumeric-sender": Row("alphanumeric_from"),
    "russian-stop": Row("sms_stop_russian", reply="opt_out", suppressed=(("+79123456789", "+79585550199"),)),
    "stopall": Row(
        "sms_stopall",
        reply="opt_out_all",
        suppressed=(("+14155550100", "+18005550199"), ("+14155550100", "+19995550000")),
    ),
    "national-format-from": Row(
        "sms_stop",
        reply="opt_out",
        suppressed=(("+14155550100", "+18005550199"),),
        mutate=lambda form: replace(form, From="(415) 555-0100"),
    ),
    "empty-body-field": Row("sms_chat", mutate=lambda form: replace(form, Body="")),
    "missing-signature": Row("sms_stop", status=403, recorded=False, signed=False, reason="missing X-Twilio-Signature"),
    "bad-signature": Row(
        "sms_stop", status=403, recorded=False, signature="bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==", reason="invalid"
    ),
    "signed-for-another-url": Row(
        "sms_stop", status=403, recorded=False, sign_url="https://attacker.example/webhooks/twilio/sms", reason="invalid"
    ),
    "empty-body": Row("sms_stop", status=400, recorded=False, mutate=lambda form: [], reason="missing field MessageSid"),
    "empty-body-unsigned": Row("sms_stop", status=403, recorded=False, signed=False, mutate=lambda form: []),
    "missing-from": Row(
        "sms_stop", status=400, recorded=False, mutate=lambda form: without(form, "From"), reason="missing field From"
    ),
    "repeated-from": Row(
        "sms_stop",
        status=400,
        recorded=False,
        mutate=lambda form: [*form, ("From", "+14155550999")],
        reason="field From is repeated",
    ),
    "unparsable-from": Row(
        "sms_stop", status=400, recorded=False, mutate=lambda form: replace(form, From="+1800555"), reason="From/To"
    ),
    "missing-to": Row(
        "sms_stop", status=400, recorded=False, mutate=lambda form: without(form, "To"), reason="missing field To"
    ),
    "to-a-sender-id": Row(
        "sms_stop", status=400, recorded=False, mutate=lambda form: replace(form, To="VERIFY"), reason="To:"
    ),
    "only-message-sid-no-aliases": Row(
        "sms_stop", reply="opt_out", suppressed=(("+14155550100", "+18005550199"),),
        mutate=lambda form: without(form, "SmsSid", "SmsMessageSid"),
    ),
    "message-sid-one-digit-long": Row(
        "sms_stop", status=400, recorded=False, reason="MessageSid: not a Twilio SID",
        mutate=lambda form: replace(form, MessageSid=dict(form)["MessageSid"] + "0"),
    ),
    "message-sid-with-an-account-prefix": Row(
        "sms_stop", status=400, recorded=False, reason="MessageSid: not a Twilio SID (SM or MM",
        mutate=lambda form: replace(form, MessageSid="AC" + dict(form)["MessageSid"][2:]),
    ),
    "sms-sid-differs": Row(
        "sms_stop", status=400, recorded=False, reason="SmsSid: differs from MessageSid",
        mutate=lambda form: replace(form, SmsSid="SM" + "0" * 32),
    ),
    "account-sid-not-a-sid": Row(
        "sms_stop", status=400, recorded=False, reason="AccountSid",
        mutate=lambda form: replace(form, AccountSid="AC123"),
    ),
    "whatsapp-channel": Row(
        "sms_stop",
        status=400,
        recorded=False,
        mutate=lambda form: replace(form, From="whatsapp:+14155550100"),
        reason="unsupported channel",
    ),
}


def messages(response_body: bytes) -> list[str]:
    root = ET.fromstring(response_body)
    assert root.tag == "Response"
    return [element.text or "" for element in root if element.tag == "Message"]


def count(app: Flask, model: type) -> int:
    with app.extensions["gateway.database"].begin() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_inbound_payloads(app: Flask, client: FlaskClient, row: Row) -> None:
    form = row.mutate(payload(row.payload))
    response = Twilio(client).post(form, signed=row.signed, signature=row.signature, sign_url=row.sign_url)

    assert response.status_code == row.status, response.get_data(as_text=True)
    if row.reason:
        assert row.reason in response.get_data(as_text=True)
    assert count(app, InboundRow) == (1 if row.recorded else 0)
    if row.status != 200:
        assert count(app, ConsentEvent) == 0
        return

    assert response.mimetype == "application/xml"
    replies = messages(response.data)
    if row.reply is None:
        assert replies == []
    else:
        values = dict(form)
        rules = app.extensions["gateway.rules"].current
        scope = values.get("MessagingServiceSid") or values["To"]
        decision = rules.classify(values["Body"])
        assert replies == [rules.reply_for(decision, scope)]
        assert row.reply == ("opt_out_all" if decision.scope == "all" else decision.intent)
    for number, sender in row.suppressed:
        assert suppressed(client, number, sender), (number, sender)
    if not row.suppressed:
        assert count(app, Suppression) == 0


def suppressed(client: FlaskClient, number: str, sender: str) -> bool:
    from tests.helpers import Api

    response = Api(client).suppression(number, sender)
    assert response.status_code == 200, response.get_data(as_text=True)
    return bool(response.json["suppressed"])


def test_stop_reply_names_brand_and_how_to_come_back(app: Flask, client: FlaskClient) -> None:
    # A sender with no brand of its own in keywords.yaml: the default brand, in English.
    replies = messages(Twilio(client).sms("STOP", to="+18885550123").data)
    assert len(replies) == 1
    rules = app.extensions["gateway.rules"].current
    brand = rules.sender("+18885550123").brand
    assert brand in replies[0]
    assert "START" in replies[0].upper()


def test_retried_delivery_changes_nothing_twice(app: Flask, client: FlaskClient) -> None:
    twilio = Twilio(client)
    form = payload("sms_stop")
    first = twilio.post(form)
    second = twilio.post(form)
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert len(messages(first.data)) == 1
    assert count(app, InboundRow) == 1
    assert count(app, ConsentEvent) == 1
    assert count(app, Suppression) == 1


def test_stop_then_start_then_stop(app: Flask, client: FlaskClient) -> None:
    twilio = Twilio(client)
    assert twilio.sms("STOP").status_code == 200
    assert suppressed(client, "+14155550100", "+18005550199")
    assert not suppressed(client, "+14155550100", "+18005550111")
    twilio.sms("START")
    assert not suppressed(client, "+14155550100", "+18005550199")
    twilio.sms("stop")
    assert suppressed(client, "+14155550100", "+18005550199")
    with app.extensions["gateway.database"].begin() as session:
        events = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
        assert [(event.action, event.changed) for event in events] == [
            ("opt_out", True),
            ("opt_in", True),
            ("opt_out", True),
        ]
        assert all(event.rules_version and event.inbound_message_id for event in events)
        assert events[0].rule and events[0].tier


def test_start_lifts_a_stopall(client: FlaskClient) -> None:
    twilio = Twilio(client)
    twilio.sms("STOPALL")
    assert suppressed(client, "+14155550100", "+12065550100")
    twilio.sms("START")
    assert not suppressed(client, "+14155550100", "+12065550100")


def test_public_base_url_is_what_twilio_signed(app: Flask, client: FlaskClient) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://sms.example.org/"
    twilio = Twilio(client)
    form = payload("sms_stop")
    assert twilio.post(form, sign_url=BASE + SMS_PATH).status_code == 403
    assert twilio.post(form, sign_url="https://sms.example.org" + SMS_PATH).status_code == 200


def test_unconfigured_token_refuses_instead_of_accepting(app: Flask, client: FlaskClient) -> None:
    app.config["TWILIO_AUTH_TOKEN"] = None
    response = Twilio(client).sms("STOP")
    assert response.status_code == 503
    assert count(app, InboundRow) == 0


def test_oversized_body_is_refused(app: Flask, client: FlaskClient) -> None:
    response = Twilio(client).sms("STOP " + "x" * 70_000)
    assert response.status_code == 413
    assert count(app, InboundRow) == 0


def test_account_sid_is_checked_only_when_configured(app: Flask, client: FlaskClient) -> None:
    twilio = Twilio(client)
    form = payload("sms_stop")
    account = dict(form)["AccountSid"]
    assert twilio.post(without(form, "AccountSid")).status_code == 200

    app.config["TWILIO_ACCOUNT_SID"] = account
    other = "AC" + "0" * 32
    for changed, reason in ((replace(form, AccountSid=other), "AccountSid does not match"),
                            (without(form, "AccountSid"), "missing AccountSid")):
        for path in (SMS_PATH, STATUS_PATH):
            response = twilio.post(replace(changed, MessageSid="SM" + "1" * 32, SmsSid="SM" + "1" * 32,
                                           SmsMessageSid="SM" + "1" * 32), path)
            assert response.status_code == 403, response.get_data(as_text=True)
            assert reason in response.get_data(as_text=True)
    assert twilio.post(payload("sms_start")).status_code == 200
    assert count(app, InboundRow) == 2


def test_twilio_account_sid_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC1f2e3d4c5b6a79881726354453627181")
    bare = Flask("config-test", instance_path=str(tmp_path))
    config.load(bare)
    assert bare.config["TWILIO_ACCOUNT_SID"] == "AC1f2e3d4c5b6a79881726354453627181"
