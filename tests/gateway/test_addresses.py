"""Address normalisation at the adapter boundary."""

from __future__ import annotations

import pytest

from gateway.addresses import Address, parse_address
from gateway.errors import InvalidAddress


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+14155550100", "US", Address("+14155550100", "e164")),
        ("(415) 555-0100", "US", Address("+14155550100", "e164")),
        ("8 (912) 345-67-89", "RU", Address("+79123456789", "e164")),
        ("07700 900123", "GB", Address("+447700900123", "e164")),
        ("0044 7700 900123", "US", Address("+447700900123", "e164")),
        ("sms:+14155550100", "US", Address("+14155550100", "e164")),
        ("86753", "US", Address("86753", "short_code")),
        ("VERIFY", "GB", Address("VERIFY", "alphanumeric")),
        ("Acme Shop", "GB", Address("Acme Shop", "alphanumeric")),
        ("MGa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", "US", Address("MGa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", "service")),
    ],
    ids=["e164", "us-national", "ru-national", "gb-national", "00-prefix", "sms-scheme", "short-code", "alphanumeric",
         "alphanumeric-space", "messaging-service"],
)
def test_parses(raw: str, region: str, expected: Address) -> None:
    assert parse_address(raw, region) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "+1800555", "whatsapp:+14155550100", "+" + "1" * 70, "TOO-LONG-SENDER-ID", "12", "+abc"],
    ids=["empty", "blank", "impossible", "whatsapp", "over-long", "long-alphanumeric", "two-digits", "plus-letters"],
)
def test_refuses(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        parse_address(raw, "US")
