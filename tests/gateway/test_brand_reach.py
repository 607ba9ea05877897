"""An opt-out's reach: a STOP to one of a brand's numbers covers the brand's senders, every brand, or one number.

Through the webhook on both backends, by the group commit (the default) and by the general path
(scope clarification on makes every STOP take it); START undoes exactly what its STOP did, and the
ledger records the reach applied and why.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from keywords import RulesHolder
from storage import ConsentEvent
from tests.conftest import API_TOKEN, KEYWORDS_FILE
from tests.helpers import Api, Twilio

PERSON = "+14155550100"
ACME, ACME_TOO, BETA, ALONE = "+18005550100", "+18005550122", "+18005550133", "+18005550144"
SENDERS = (ACME, ACME_TOO, BETA, ALONE)


def with_brands(app: Flask, folder: Path, reach: str, account_from: date | None = None) -> None:
    """The app reading a copy of keywords.yaml with two brands: acme (two numbers) and beta."""
    switch = f"\n    account_from: {account_from.isoformat()}" if account_from else ""
    brands = (f'brands:\n  acme:\n    senders: ["{ACME}", "{ACME_TOO}"]\n    reach: {reach}{switch}\n'
              f'  beta:\n    senders: ["{BETA}"]\n\n')
    path = folder / "keywords.yaml"
    path.write_text(KEYWORDS_FILE.read_text(encoding="utf-8").replace("\nlanguages:\n", f"\n{brands}languages:\n", 1),
                    encoding="utf-8")
    app.extensions["gateway.rules"] = app.extensions["gateway.inbound"].rules = RulesHolder(path, check_interval=0.0)


def suppressed(client: FlaskClient) -> dict[str, bool]:
    api = Api(client)
    return {sender: api.suppression(PERSON, sender).json["suppressed"] for sender in SENDERS}


EXPECTED = {
    "number": {ACME: True, ACME_TOO: False, BETA: False, ALONE: False},
    "brand": {ACME: True, ACME_TOO: True, BETA: False, ALONE: False},
    "account": {ACME: True, ACME_TOO: True, BETA: True, ALONE: True},
}
NONE = dict.fromkeys(SENDERS, False)


@pytest.mark.parametrize("path", ["group-commit", "general"])
@pytest.mark.parametrize("reach", ["number", "brand", "account"])
def test_a_stop_reaches_as_its_brand_says_and_start_undoes_it(app: Flask, client: FlaskClient, tmp_path: Path,
                                                             reach: str, path: str) -> None:
    with_brands(app, tmp_path, reach)
    app.config["CLARIFY_SCOPE"] = path == "general"
    twilio = Twilio(client)
    assert twilio.sms("STOP", from_=PERSON, to=ACME).status_code == 200
    assert suppressed(client) == EXPECTED[reach]
    with app.extensions["gateway.database"].begin() as session:
        events = session.scalars(select(ConsentEvent).where(ConsentEvent.action == "opt_out")).all()
        assert events and {(e.explanation["reach"], e.explanation["reach_reason"]) for e in events} == {
            (reach, f"brand acme: reach {reach}")}
    twilio.sms("START", from_=PERSON, to=ACME)
    assert suppressed(client) == NONE


def test_stopall_still_means_every_sender(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    with_brands(app, tmp_path, "number")
    Twilio(client).sms("STOPALL", from_=PERSON, to=ACME)
    assert suppressed(client) == EXPECTED["account"]


@pytest.mark.parametrize(("days", "expected"), [(-1, "account"), (1, "brand")], ids=["switched", "not-yet"])
def test_the_dated_switch_turns_account_reach_on(app: Flask, client: FlaskClient, tmp_path: Path, days: int,
                                                expected: str) -> None:
    with_brands(app, tmp_path, "brand", account_from=date.today() + timedelta(days=days))
    Twilio(client).sms("STOP", from_=PERSON, to=ACME_TOO)
    assert suppressed(client) == EXPECTED[expected]


def test_a_sender_in_no_brand_is_a_brand_of_its_own(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    with_brands(app, tmp_path, "account")
    Twilio(client).sms("STOP", from_=PERSON, to=ALONE)
    assert suppressed(client) == {**NONE, ALONE: True}


def test_the_check_and_the_scrub_answer_by_brand_id(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    with_brands(app, tmp_path, "number")
    Twilio(client).sms("STOP", from_=PERSON, to=ACME)
    bearer = {"Authorization": f"Bearer {API_TOKEN}"}
    acme = client.get(f"/api/v1/suppressions/{PERSON}?brand=acme", headers=bearer).json
    # Reach number: one of acme's senders may not text, so acme as a whole is suppressed, and says which.
    assert acme["suppressed"] is True and acme["brand"] == "acme" and acme["senders"] == {ACME: True, ACME_TOO: False}
    assert client.get(f"/api/v1/suppressions/{PERSON}?brand=beta", headers=bearer).json["suppressed"] is False
    scrubbed = client.post("/api/v1/scrub?brand=acme", json={"numbers": [PERSON, "+14155550111"]}, headers=bearer).json
    assert (scrubbed["brand"], scrubbed["suppressed"], scrubbed["allowed"]) == ("acme", [PERSON], ["+14155550111"])
    unknown = client.get(f"/api/v1/suppressions/{PERSON}?brand=gamma", headers=bearer)
    both = client.get(f"/api/v1/suppressions/{PERSON}?brand=acme&sender={ACME}", headers=bearer)
    assert (unknown.status_code, both.status_code) == (400, 400) and "not a brand" in unknown.json["error"]


def test_a_carrier_opt_out_reaches_as_a_stop_does(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    """Twilio error 21610 (the recipient replied STOP at the carrier) on a message from ACME covers acme's senders."""
    with_brands(app, tmp_path, "brand")
    report = {"MessageSid": "SM" + "7" * 32, "MessageStatus": "undelivered", "ErrorCode": "21610", "To": PERSON,
              "From": ACME, "AccountSid": "AC" + "1" * 32}
    assert Twilio(client).post(report, "/webhooks/twilio/status").status_code == 204
    assert suppressed(client) == EXPECTED["brand"]
    with app.extensions["gateway.database"].begin() as session:
        assert {e.explanation["reach"] for e in session.scalars(select(ConsentEvent))} == {"brand"}
