"""The reference signers reproduce the providers' published known-answer vectors."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.providers import signers

# Twilio's worked example (webhooks security docs, and the SDKs' own request-validator tests).
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234", "From": "+14158675309",
                 "To": "+18005551212"}


def test_twilio_signer_gives_twilios_published_signature() -> None:
    assert signers.twilio("12345", TWILIO_URL, urlencode(TWILIO_PARAMS).encode()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_twilio_signer_does_not_depend_on_field_order_but_on_every_value() -> None:
    shuffled = urlencode(dict(reversed(list(TWILIO_PARAMS.items())))).encode()
    assert signers.twilio("12345", TWILIO_URL, shuffled) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    changed = urlencode({**TWILIO_PARAMS, "Digits": "9999"}).encode()
    assert signers.twilio("12345", TWILIO_URL, changed) != "RSOYDt4T1cUTdK1PDd93/VVr8B8="
