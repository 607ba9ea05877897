"""No phone number reaches a log line, whatever format it arrives in, wherever in the request it is."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.ops import logs
from gateway.ops.logs import JsonFormatter
from tests.conftest import API_TOKEN
from tests.helpers import STATUS_PATH, Twilio

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
SENDER = "+18005550199"
DIGITS = "5557777"
"""The subscriber digits of +1 415 555 7777: none of them may be read in a log line, separators removed."""

FORMATS = {
    "e164": "+14155557777",
    "digits": "14155557777",
    "national-dashes": "415-555-7777",
    "national-dots": "415.555.7777",
    "national-brackets": "(415) 555-7777",
    "national-spaces": "415 555 7777",
    "plus-spaces": "+1 415 555 7777",
    "plus-dots": "+1.415.555.7777",
    "double-zero": "001 415 555 7777",
    "double-zero-dashes": "00-1-415-555-7777",
    "tel-uri": "tel:+1-415-555-7777",
}
SEPARATORS = re.compile(r"%[0-9A-Fa-f]{2}|[\s().\-/+:*]")


@pytest.fixture
def captured(app: Flask) -> Iterator[io.StringIO]:
    """Every log line the app writes, as the production JSON formatter writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def leaks(text: str) -> list[str]:
    return [line for line in text.splitlines() if DIGITS in SEPARATORS.sub("", line)]


def _api_calls(client: FlaskClient, raw: str) -> None:
    for encoded in (quote(raw, safe=""), quote(raw, safe="+:()"), raw.replace(" ", "%20")):
        client.get(f"/api/v1/suppressions/{encoded}", headers=AUTH)
        client.get(f"/api/v1/suppressions/{encoded}", query_string={"sender": raw}, headers=AUTH)
        client.get(f"/api/v1/history/{encoded}", headers=AUTH)
        client.get(f"/api/v1/preferences/{encoded}", headers=AUTH)
        client.delete(f"/api/v1/links/{encoded}", headers=AUTH)
        client.delete(f"/api/v1/suppressions/{encoded}", query_string={"reason": "asked", "sender": SENDER}, headers=AUTH)
        client.get(f"/api/v1/suppresions/{encoded}", headers=AUTH)  # no such route: a 404 path
        client.get(f"/u/{encoded}")
    client.get("/api/v1/suppressions/%2B10000000000", query_string={"sender": SENDER, "note": f"call {raw}"}, headers=AUTH)
    client.post("/api/v1/suppressions", json={"number": raw, "sender": SENDER, "reason": "asked"}, headers=AUTH)


def _webhook_calls(client: FlaskClient, raw: str) -> None:
    twilio = Twilio(client)
    twilio.sms("STOP", from_=raw)
    twilio.sms(f"STOP, this is {raw}", to=raw)
    twilio.post({"MessageSid": "SM" + "a" * 32, "MessageStatus": "undelivered", "ErrorCode": "21610",
                 "To": raw, "From": SENDER}, path=STATUS_PATH)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("raw", list(FORMATS.values()), ids=list(FORMATS))
def test_no_format_of_a_number_reaches_the_log(client: FlaskClient, captured: io.StringIO, raw: str) -> None:
    _api_calls(client, raw)
    _webhook_calls(client, raw)
    text = captured.getvalue()
    assert text.count("\n") >= 25, "the requests were logged"
    assert leaks(text) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_access_line_shows_the_route_with_the_number_masked(client: FlaskClient, captured: io.StringIO) -> None:
    client.get("/api/v1/suppressions/(415)%20555-7777", query_string={"sender": SENDER, "topic": "promo"}, headers=AUTH)
    line = next(line for line in captured.getvalue().splitlines() if "/api/v1/suppressions/" in line)
    assert '"path": "/api/v1/suppressions/+1415*****77"' in line
    assert '"query": {"sender": "+1800*****99", "topic": "promo"}' in line


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_link_token_in_the_path_is_not_logged(client: FlaskClient, captured: io.StringIO) -> None:
    client.get("/u/AbCdEfGhIjKl")
    assert "AbCdEfGhIjKl" not in captured.getvalue()
    assert "/u/<token>" in captured.getvalue()


def test_the_second_net_still_masks_digit_runs() -> None:
    assert logs.mask_numbers("call +14155557777 now") == "call +1415*****77 now"
