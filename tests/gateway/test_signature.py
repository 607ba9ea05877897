"""twilio-python's own known-answer signature vector, pinned so a library change cannot drift silently."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from gateway import simulator

URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_known_answer_vector() -> None:
    assert RequestValidator("12345").compute_signature(URI, PARAMS) == EXPECTED
    assert RequestValidator("12345").validate(URI, PARAMS, EXPECTED)


def test_simulator_signs_like_twilio() -> None:
    assert simulator.sign(URI, PARAMS, "12345") == EXPECTED


def test_wrong_token_does_not_validate() -> None:
    assert not RequestValidator("54321").validate(URI, PARAMS, EXPECTED)
