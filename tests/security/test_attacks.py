"""The attack pass, replayed end to end against gunicorn on 127.0.0.1 with production settings.

Each test is one attack that worked once (issue 11); a change that reopens it fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway import simulator
from tests.gateway.test_twilio_resplit import FORGERIES, OURS as RESPLIT_OURS, PERSON as RESPLIT_PERSON
from tests.security.conftest import (
    BASE64_TOKEN, HEX_TOKEN, OWNED_TOKEN, TWILIO_TOKEN, URL_TOKEN, Production, refused_start,
)

PERSON = "+14155557777"
Forgery = Callable[[str], tuple[list[tuple[str, str]], list[tuple[str, str]]]]
SENDER = "+18005550199"


def suppressed(production: Production, number: str = PERSON) -> bool:
    answer = production.api("GET", f"/api/v1/suppressions/{number}?sender=%2B18005550199")
    assert answer.status == 200, answer
    return bool(answer.json()["suppressed"])


# --- 1. API tokens -----------------------------------------------------------------------------

@pytest.mark.parametrize("token", [BASE64_TOKEN, HEX_TOKEN, URL_TOKEN, OWNED_TOKEN], ids=["base64", "hex", "url", "owned"])
def test_each_configured_token_opens_the_api(production: Production, token: str) -> None:
    assert production.api("GET", f"/api/v1/suppressions/{PERSON}", token=token).status == 200


@pytest.mark.parametrize("presented", ["=", "==", BASE64_TOKEN.rstrip("="), f"crm:{OWNED_TOKEN}", "crm", "yga0DznGt3K2onpiWefiAg"],
                         ids=["padding", "double-padding", "unpadded", "entry-itself", "owner-name", "owner-like-prefix"])
def test_pieces_of_an_entry_open_nothing(production: Production, presented: str) -> None:
    for method, path, body in [("GET", f"/api/v1/suppressions/{PERSON}", None),
                               ("POST", "/api/v1/suppressions", {"number": PERSON, "sender": SENDER, "reason": "x"}),
                               ("POST", "/api/v1/erasures", {"number": PERSON, "reason": "x"}),
                               ("GET", "/api/v1/export/suppressions.csv", None)]:
        assert production.api(method, path, token=presented, body=body).status == 401, (presented, path)


@pytest.mark.parametrize(
    "tokens, reason",
    [(f"alice={HEX_TOKEN}", "write owner:token"), ("short", "at least 16"), ("abc=def0123456789xyz", "trailing base64 padding")],
    ids=["old-owner-equals", "short", "equals-inside"],
)
def test_gunicorn_refuses_bad_tokens_in_one_line(tmp_path: Path, tokens: str, reason: str) -> None:
    # Refused before any database is opened: one backend is enough.
    result = refused_start(tmp_path, f"sqlite:///{tmp_path / 'never.db'}", API_TOKENS=tokens)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and reason in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert tokens.partition("=")[2] not in result.stderr or "=" not in tokens


# --- 2. Replay by re-splitting signed fields ----------------------------------------------------

def test_a_re_split_start_cannot_re_subscribe_after_stop(production: Production) -> None:
    person = "+14155550142"
    start = simulator.inbound_form("START", person, SENDER)
    signature = simulator.sign(production.base + "/webhooks/twilio/sms", start, TWILIO_TOKEN)
    assert production.twilio(start, signature=signature).status == 200
    assert production.twilio(simulator.inbound_form("STOP", person, SENDER)).status == 200
    assert suppressed(production, person)
    # Twilio signs URL + name + value with no separators: NumMedia=0 folded into MessageSid signs alike.
    forged = {key: value for key, value in start.items() if key != "NumMedia"}
    forged["MessageSid"] = start["MessageSid"] + "NumMedia0"
    assert simulator.sign(production.base + "/webhooks/twilio/sms", forged, TWILIO_TOKEN) == signature
    answer = production.twilio(forged, signature=signature)
    assert answer.status in (400, 403), answer
    assert suppressed(production, person), "the replayed START re-subscribed the person"


@pytest.mark.parametrize("forge", list(FORGERIES.values()), ids=list(FORGERIES))
def test_an_attackers_own_signed_message_cannot_become_the_persons_start(production: Production, forge: Forgery) -> None:
    """The attacker texts our number a Body spelling the person's From and a fresh MessageSid, then re-splits it."""
    assert production.twilio(simulator.inbound_form("STOP", RESPLIT_PERSON, RESPLIT_OURS)).status == 200
    original, resplit = forge("START")
    signature = simulator.sign(production.base + "/webhooks/twilio/sms", dict(original), TWILIO_TOKEN)
    assert simulator.sign(production.base + "/webhooks/twilio/sms", dict(resplit), TWILIO_TOKEN) == signature
    answer = production.twilio(resplit, signature=signature)
    assert answer.status in (400, 403), answer
    check = production.api("GET", f"/api/v1/suppressions/{RESPLIT_PERSON}?sender={RESPLIT_OURS.replace('+', '%2B')}")
    assert check.json()["suppressed"] is True


# --- 3. The Host header ----------------------------------------------------------------------------

def test_a_foreign_host_neither_signs_nor_mints(production: Production) -> None:
    evil = {"Host": "evil.example"}
    form = simulator.inbound_form("STOP", "+14155550143", SENDER)
    signature = simulator.sign("http://evil.example/webhooks/twilio/sms", form, TWILIO_TOKEN)
    assert production.twilio(form, signature=signature, headers=evil).status == 403
    minted = production.api("POST", "/api/v1/links", body={"number": PERSON, "sender": SENDER}, headers=evil)
    assert minted.status == 201, minted
    assert minted.json()["url"].startswith(production.base + "/u/")
    assert "evil.example" not in minted.body


def test_gunicorn_refuses_to_serve_without_public_base_url(tmp_path: Path) -> None:
    result = refused_start(tmp_path, f"sqlite:///{tmp_path / 'never.db'}", PUBLIC_BASE_URL="")
    assert result.returncode != 0
    assert "Error: PUBLIC_BASE_URL is not set" in result.stderr and "Traceback" not in result.stderr


def test_gunicorn_refuses_a_broken_keywords_file_in_one_line(tmp_path: Path) -> None:
    # The master compiles the file before any worker boots (the workers share what it compiled).
    broken = tmp_path / "keywords.yaml"
    broken.write_text(Path("keywords.yaml").read_text(encoding="utf-8") + "\nno_such_section: [STOP]\n", encoding="utf-8")
    result = refused_start(tmp_path, f"sqlite:///{tmp_path / 'never.db'}", KEYWORDS_FILE=str(broken))
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and f"KEYWORDS_FILE refused: {broken}:" in errors[0], result.stderr
    assert "Traceback" not in result.stderr


# --- 5. Numbers in the log -------------------------------------------------------------------------

def test_no_number_format_reaches_the_server_log(production: Production) -> None:
    formats = ["415-555-7777", "(415)%20555-7777", "+1%20415%20555%207777", "+1.415.555.7777", "001%20415%20555%207777",
               "tel:+1-415-555-7777", "%2B14155557777"]
    for raw in formats:
        production.api("GET", f"/api/v1/suppressions/{raw}?sender={raw}")
        production.api("GET", f"/api/v1/history/{raw}")
        production.api("DELETE", f"/api/v1/suppressions/{raw}?reason=x")
        production.api("GET", f"/api/v1/no-such-route/{raw}")
    production.twilio(simulator.inbound_form("STOP", "(415) 555-7777", SENDER))
    production.twilio(simulator.inbound_form("STOP", "415.555.7777", "tel:+1-415-555-7777"))
    text = production.log()
    flat = re.sub(r"%[0-9A-Fa-f]{2}|[\s().\-/+:*]", "", text)
    assert "5557777" not in flat, [line for line in text.splitlines() if "7777" in line][:5]
    assert text.count('"event": "request"') >= 4 * len(formats)


# --- 9. Bad input is a 4xx --------------------------------------------------------------------------

@pytest.mark.parametrize("until", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"], ids=["max", "min"])
def test_an_until_outside_utc_is_400(production: Production, until: str) -> None:
    answer = production.api("POST", "/api/v1/suppressions", body={"number": PERSON, "sender": SENDER, "until": until, "reason": "x"})
    assert answer.status == 400, answer


@pytest.mark.parametrize("body", [
    {"number": [PERSON], "sender": SENDER, "reason": "x"},
    {"number": PERSON, "sender": {"a": 1}, "reason": "x"},
    {"number": 14155557777, "sender": SENDER, "reason": "x"},
], ids=["list-number", "object-sender", "integer-number"])
def test_a_json_field_of_the_wrong_type_is_400(production: Production, body: dict[str, object]) -> None:
    assert production.api("POST", "/api/v1/suppressions", body=body).status == 400


def test_a_lone_surrogate_in_a_link_message_is_400(production: Production) -> None:
    raw = b'{"number": "+14155557777", "sender": "+18005550199", "message": "hi \\ud800"}'
    assert production.api("POST", "/api/v1/links", raw=raw).status == 400


def test_superscript_digits_on_the_pages_are_400(production: Production) -> None:
    minted = production.api("POST", "/api/v1/links", body={"number": "+14155550144", "sender": SENDER}).json()
    path = minted["url"].removeprefix(production.base)
    csrf = production.csrf(path)
    answer = production.form(f"{path}/preferences", {"csrf": csrf, "pause": "\u00b2"})
    assert 400 <= answer.status < 500, answer
    production.staff_sign_in()
    assert 400 <= production.request("GET", "/dashboard/?days=%C2%B2").status < 500
    form_token = production.csrf("/dashboard/fuzzy")
    answer = production.form(f"/dashboard/fuzzy/{'9' * 23}/false-positive", {"csrf": form_token})
    assert 400 <= answer.status < 500, answer


def test_no_traceback_reached_the_log(production: Production) -> None:
    # Last in the module: every attack above was answered without an unhandled exception.
    assert "Traceback" not in production.log()
    lines = [json.loads(line) for line in production.log().splitlines() if line.startswith("{")]
    assert not [line for line in lines if line.get("status", 0) >= 500]
