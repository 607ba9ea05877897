"""Re-split replays: a captured, correctly signed Twilio form cut into different fields.

Twilio signs the URL followed by every field's name and value, sorted by name, with no separator.
Any other form whose names and values concatenate to the same string carries the same
X-Twilio-Signature. Each test builds such a form from a real payload, shows that the signed
string and the signature are unchanged, and sends it with the original's signature to the
production verifier through the Flask test client.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from gateway import simulator
from storage import ConsentEvent, InboundRow
from tests.conftest import TWILIO_TOKEN
from tests.helpers import BASE, SMS_PATH, Api, Twilio

PAYLOADS = Path(__file__).parent / "payloads" / "twilio"
PERSON = "+14155550100"
OURS = "+18005550199"
ATTACKER = "+15125550142"
Form = list[tuple[str, str]]


def payload(name: str) -> Form:
    return list(json.loads((PAYLOADS / f"{name}.json").read_text()).items())


def signed_string(form: Form) -> str:
    """What Twilio signs after the URL, built as twilio's RequestValidator builds it."""
    fields = MultiDict(form)
    return "".join(name + value for name in sorted(set(fields)) for value in sorted(set(fields.getlist(name))))


def signature(form: Form) -> str:
    computed: str = RequestValidator(TWILIO_TOKEN).compute_signature(BASE + SMS_PATH, MultiDict(form))
    return computed


def absorb(form: Form, into: str, *names: str) -> Form:
    """`into` swallows the fields that follow it in Twilio's order: their names and values join its value."""
    values = dict(form)
    order = sorted(values)
    assert order[order.index(into) + 1: order.index(into) + 1 + len(names)] == list(names), "not the next fields"
    merged = values[into] + "".join(name + values[name] for name in names)
    return [(key, merged if key == into else value) for key, value in form if key not in names]


def forged(original: Form, resplit: Form) -> Form:
    """The re-split form, after checking that it is signed exactly as the captured one."""
    assert resplit != original
    assert signed_string(resplit) == signed_string(original)
    assert signature(resplit) == signature(original)
    return resplit


def replay(client: FlaskClient, original: Form, resplit: Form) -> tuple[int, str]:
    """Send the re-split form with the captured request's own X-Twilio-Signature."""
    response = Twilio(client).post(forged(original, resplit), signature=signature(original))
    return response.status_code, response.get_data(as_text=True)


def suppressed(client: FlaskClient, number: str = PERSON, sender: str = OURS) -> bool:
    response = Api(client).suppression(number, sender)
    assert response.status_code == 200, response.get_data(as_text=True)
    return bool(response.json["suppressed"])


def count(app: Flask, model: type) -> int:
    with app.extensions["gateway.database"].begin() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@dataclass(frozen=True)
class Resplit:
    build: Callable[[Form], Form]
    status: int
    reason: str = ""


# A captured START (sms_start.json), replayed re-split after the person has sent STOP.
START_RESPLITS = {
    # The attack pass's replay: NumMedia dropped into a longer, "new" MessageSid.
    "message-sid-absorbs-num-media": Resplit(lambda f: absorb(f, "MessageSid", "NumMedia"), 400, "MessageSid"),
    "sms-sid-absorbs-sms-status": Resplit(lambda f: absorb(f, "SmsSid", "SmsStatus"), 400, "SmsSid"),
    "sms-message-sid-absorbs-sms-sid": Resplit(lambda f: absorb(f, "SmsMessageSid", "SmsSid"), 400, "SmsMessageSid"),
    "account-sid-absorbs-api-version": Resplit(lambda f: absorb(f, "AccountSid", "ApiVersion"), 400, "AccountSid"),
    "body-absorbs-from": Resplit(lambda f: absorb(f, "Body", "From"), 400, "missing field From"),
    "from-absorbs-from-city": Resplit(lambda f: absorb(f, "From", "FromCity"), 400, "From"),
    "to-absorbs-to-city": Resplit(lambda f: absorb(f, "To", "ToCity"), 400, "To"),
    "from-zip-absorbs-message-sid": Resplit(
        lambda f: absorb(f, "FromZip", "MessageSid"), 400, "missing field MessageSid"
    ),
    # The MessageSid is untouched, so this is the captured message again: its stored answer, no change.
    "api-version-absorbs-body": Resplit(lambda f: absorb(f, "ApiVersion", "Body"), 200),
}


@pytest.mark.parametrize("case", START_RESPLITS.values(), ids=START_RESPLITS.keys())
def test_a_resplit_start_after_stop_does_not_resubscribe(app: Flask, client: FlaskClient, case: Resplit) -> None:
    twilio = Twilio(client)
    captured = payload("sms_start")
    assert twilio.post(captured).status_code == 200
    assert twilio.post(payload("sms_stop")).status_code == 200
    assert suppressed(client)

    status, text = replay(client, captured, case.build(captured))

    assert status == case.status, text
    assert case.reason in text
    assert suppressed(client), "a replayed START re-subscribed the person"
    assert count(app, InboundRow) == 2
    assert count(app, ConsentEvent) == 2


def _attacker_start(body: str) -> Form:
    """What Twilio posts when the attacker's own phone texts `body` to our number."""
    return list(simulator.inbound_form(body, ATTACKER, OURS, message_sid=simulator.new_sid()).items())


def _fields(*pairs: tuple[str, str]) -> str:
    return "".join(name + value for name, value in pairs)


def forge_new_message(captured_text: str) -> tuple[Form, Form]:
    """The attacker's message, and the form cut from it: the person's From, a fresh MessageSid, Body START.

    Everything Twilio wrote between the attacker's Body and To (the real From, MessageSid, ...)
    ends up inside SmsStatus's value, a field no decision reads.
    """
    fresh = simulator.new_sid()
    head = (("From", PERSON), ("MessageSid", fresh), ("NumMedia", "0"), ("NumSegments", "1"),
            ("ReferralNumMedia", "0"), ("SmsMessageSid", fresh), ("SmsSid", fresh))
    original = _attacker_start(captured_text + _fields(*head) + "SmsStatus")
    values = dict(original)
    text = signed_string(original)
    swallowed = text[text.index("From" + ATTACKER): text.index("To" + OURS)]
    tail = [(name, values[name]) for name in sorted(values) if name >= "To"]
    resplit = [("AccountSid", values["AccountSid"]), ("ApiVersion", values["ApiVersion"]), ("Body", captured_text),
               *head, ("SmsStatus", swallowed), *tail]
    return original, resplit


def forge_from_across_a_name(captured_text: str) -> tuple[Form, Form]:
    """The real `From` cut between a made-up field's name (...F) and its value (rom+1512...): no new MessageSid."""
    original = _attacker_start(captured_text + "From" + PERSON + "FromA")
    values = dict(original)
    resplit = [(name, value) for name, value in original if name not in ("Body", "From")]
    resplit += [("Body", captured_text), ("From", PERSON), ("FromAF", "rom" + values["From"])]
    return original, resplit


FORGERIES = {
    "fresh-message-sid-and-the-persons-from": forge_new_message,
    "from-split-across-a-field-name": forge_from_across_a_name,
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_an_attackers_own_message_cannot_become_the_persons_start(
    app: Flask, client: FlaskClient, forge: Callable[[str], tuple[Form, Form]]
) -> None:
    twilio = Twilio(client)
    assert twilio.post(payload("sms_stop")).status_code == 200
    original, resplit = forge("START")
    assert dict(resplit)["From"] == PERSON and dict(resplit)["Body"] == "START"

    status, text = replay(client, original, resplit)

    assert status == 400, text
    assert "re-split" in text
    assert suppressed(client), "a forged START re-subscribed the person"
    # Twilio's own delivery of the attacker's message is an ordinary message from the attacker.
    assert twilio.post(original).status_code == 200
    assert suppressed(client)
    assert count(app, ConsentEvent) == 1


def test_the_attack_pass_replay_failed_before(app: Flask, client: FlaskClient) -> None:
    """The issue's reproduction, step by step: captured START, STOP, START re-split with NumMedia dropped."""
    twilio = Twilio(client)
    captured = payload("sms_start")
    twilio.post(captured)
    twilio.post(payload("sms_stop"))
    resplit = absorb(captured, "MessageSid", "NumMedia")
    assert dict(resplit)["MessageSid"] == dict(captured)["MessageSid"] + "NumMedia0"

    status, text = replay(client, captured, resplit)

    assert status == 400 and "MessageSid" in text
    assert suppressed(client)
