"""GET /api/v1/suppressions/<number>: bearer tokens, number parsing, and what it answers."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.helpers import Api, Twilio


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer wrong-token", "Basic dGVzdDp0ZXN0", "test-api-token"],
    ids=["none", "empty-bearer", "wrong-token", "basic-auth", "no-scheme"],
)
def test_requires_a_valid_bearer_token(client: FlaskClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/suppressions/+14155550100", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_any_configured_token_works(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    app.config["API_TOKENS"] = ("first-token-0123456789", "second-token-0123456789")
    assert Api(client, "second-token-0123456789").suppression("+14155550100").status_code == 200
    assert Api(client, "test-api-token-0123456789").suppression("+14155550100").status_code == 401


@pytest.mark.parametrize(
    "raw",
    ["+14155550100", "14155550100", "(415) 555-0100", "+1 415 555 0100", "001-415-555-0100"],
    ids=["e164", "digits-with-country", "national", "spaced", "international-prefix"],
)
def test_number_formats_normalise_to_e164(client: FlaskClient, raw: str) -> None:
    Twilio(client).sms("STOP", from_="+14155550100")
    response = Api(client).suppression(raw, "+18005550199")
    assert response.status_code == 200
    assert response.json["number"] == "+14155550100"
    assert response.json["suppressed"] is True
    assert response.json["reason"] == "keyword"
    assert response.json["since"]
    assert response.json["suppressions"][0]["rule"]


@pytest.mark.parametrize("raw", ["hello", "+1800555", "123", "+" + "9" * 40], ids=["letters", "too-short", "three-digits", "too-long"])
def test_unparsable_number_is_a_400_with_reason(client: FlaskClient, raw: str) -> None:
    response = Api(client).suppression(raw)
    assert response.status_code == 400
    assert "number" in response.json["error"]


def test_unparsable_sender_is_a_400(client: FlaskClient) -> None:
    response = Api(client).suppression("+14155550100", "+1800555")
    assert response.status_code == 400
    assert "sender" in response.json["error"]


def test_scoped_to_the_sender(client: FlaskClient) -> None:
    Twilio(client).sms("STOP", from_="+14155550100", to="+18005550199")
    api = Api(client)
    assert api.suppression("+14155550100", "+18005550199").json["suppressed"] is True
    other = api.suppression("+14155550100", "+18005550111").json
    assert other["suppressed"] is False
    assert other["since"] is None
    # Without a sender the answer is conservative: any suppression counts.
    assert api.suppression("+14155550100").json["suppressed"] is True
    assert api.suppression("+14155550101").json["suppressed"] is False
