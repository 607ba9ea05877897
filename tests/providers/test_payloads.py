"""One runner for every provider's captured payloads: the same rows, signed by the reference signers.

Each provider has raw request bodies under payloads/<provider>/ (as the provider POSTs them) and a
`ProviderUnderTest`: its routes, content type and reference signer (signers.py, checked against
the provider's published vectors). Every row is posted to the running app's real route and verified
by the production verifier, on SQLite and PostgreSQL:

    valid              signed as the provider signs: 200, the opt-out applied and confirmed
    missing signature  403, nothing stored
    bad signature      signed with another secret: 403, nothing stored
    empty body         signed, but no fields: 400 with the reason, nothing stored
    duplicate id       the same delivery twice (a provider retry): one message, one ledger event, the same answer
    media              an MMS whose text is STOP: an opt-out like any other
    short code         written to a short code: the opt-out is that short code's
    alphanumeric       from a sender id, not a phone: answered with no reply and no consent change
    status opt-out     a delivery report saying the recipient opted out at the carrier: suppressed

A new provider adds its payload files, its reference signer and one `ProviderUnderTest`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from storage import ConsentEvent, InboundRow
from tests.conftest import TWILIO_TOKEN
from tests.helpers import BASE, Api
from tests.providers import signers

PAYLOADS = Path(__file__).parent / "payloads"


@dataclass(frozen=True)
class ProviderUnderTest:
    name: str
    content_type: str
    sign: Callable[[str, str, bytes], dict[str, str]]
    """(secret, signed URL, body) -> the headers the provider sends."""
    secret: str
    replied: Callable[[TestResponse], bool]
    """Whether an answer to an inbound message carries an inline reply."""

    def body(self, payload: str) -> bytes:
        return (PAYLOADS / self.name / payload).read_bytes().rstrip(b"\n")

    def post(self, client: FlaskClient, route: str, body: bytes, signed: str | None = "secret") -> TestResponse:
        path = f"/webhooks/{self.name}/{route}"
        headers = {} if signed is None else self.sign(self.secret if signed == "secret" else signed, BASE + path, body)
        return client.post(path, data=body, content_type=self.content_type, headers=headers)


TWILIO = ProviderUnderTest(
    name="twilio", content_type="application/x-www-form-urlencoded",
    sign=lambda secret, url, body: {"X-Twilio-Signature": signers.twilio(secret, url, body)}, secret=TWILIO_TOKEN,
    replied=lambda response: "<Message>" in response.get_data(as_text=True),
)
PROVIDERS = [TWILIO]


@dataclass(frozen=True)
class Row:
    name: str
    payload: str | None
    """The payload file; None: an empty body."""
    route: str = "sms"
    signed: str | None = "secret"
    """How it is signed: with the provider's secret, with another one, or not at all (None)."""
    times: int = 1
    status: int = 200
    replied: bool = True
    suppressed: tuple[str, str] | None = None
    """(number, sender) the row must leave suppressed."""
    stored: int = 1
    """Inbound messages stored after it."""
    events: int = 1
    """Ledger events after it, where it suppresses: one per sender scope (a messaging service and its number)."""


ROWS = [
    Row("valid", "sms_stop", suppressed=("+14155550100", "+18005550199")),
    Row("missing signature", "sms_stop", signed=None, status=403, replied=False, stored=0),
    Row("bad signature", "sms_stop", signed="not-the-auth-token", status=403, replied=False, stored=0),
    Row("empty body", None, status=400, replied=False, stored=0),
    Row("duplicate id", "sms_stop", times=2, suppressed=("+14155550100", "+18005550199")),
    Row("media", "mms_stop_with_media", suppressed=("+14155550123", "+18005550199")),
    Row("short code", "short_code_stop", suppressed=("+13125550177", "86753")),
    Row("alphanumeric sender", "alphanumeric_from", replied=False),
    Row("messaging service", "service_stop", suppressed=("+15125550142", "MGa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"),
        events=2),
    Row("status opt-out", "status_21610", route="status", status=204, replied=False, stored=0,
        suppressed=("+14155550166", "+15125550188"), events=2),
    Row("status delivered", "status_delivered", route="status", status=204, replied=False, stored=0),
]


def _counts(app: Flask) -> tuple[int, int]:
    with app.extensions["gateway.database"].begin() as session:
        return (session.scalar(select(func.count()).select_from(InboundRow)) or 0,
                session.scalar(select(func.count()).select_from(ConsentEvent)) or 0)


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_payload(app: Flask, client: FlaskClient, provider: ProviderUnderTest, row: Row) -> None:
    body = provider.body(f"{row.payload}.form") if row.payload else b""
    answers = [provider.post(client, row.route, body, row.signed) for _ in range(row.times)]
    for answer in answers:
        assert answer.status_code == row.status, answer.get_data(as_text=True)
        if row.route == "sms" and row.status == 200:
            assert provider.replied(answer) is row.replied
    if row.status >= 400:
        assert answers[0].get_data(as_text=True).strip(), "a refusal says why"
    # A retry is answered as the first delivery was, and stores nothing more.
    assert len({answer.get_data() for answer in answers}) == 1
    messages, events = _counts(app)
    assert messages == row.stored
    if row.suppressed is not None:
        number, sender = row.suppressed
        assert Api(client).suppression(number, sender).json["suppressed"] is True
        assert events == row.events
    elif row.status >= 400 or row.name == "alphanumeric sender":
        assert events == 0
