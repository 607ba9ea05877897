"""Normalise provider addresses: E.164 phone numbers, short codes and alphanumeric sender ids."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import phonenumbers

from gateway.errors import InvalidAddress

AddressKind = Literal["e164", "short_code", "alphanumeric", "service"]

# Short codes are 3 to 8 digits depending on the country (US 5-6, UK 5, FR 5, IN 5-6, AU up to 8).
SHORT_CODE = re.compile(r"^\d{3,8}$")
# Alphanumeric sender ids: up to 11 characters, letters, digits, space and a few symbols, at least one letter.
ALPHANUMERIC = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 .\-_&+]{1,11}$")
SERVICE_IDS: list[re.Pattern[str]] = []
"""The shapes of the providers' sender-pool ids (Twilio's Messaging Service SIDs...), used as sender
scopes: each provider module registers its own (`register_service_id`), so none is written here."""


def register_service_id(shape: re.Pattern[str]) -> None:
    """Read addresses of this shape (a whole-string match) as a provider's service id, kind `service`."""
    if shape not in SERVICE_IDS:
        SERVICE_IDS.append(shape)
        parse_address.cache_clear()  # an address read before is read again
MAX_ADDRESS_LENGTH = 64


@dataclass(frozen=True)
class Address:
    """An address as it crosses the adapter boundary: E.164, or explicitly marked as not a phone."""

    value: str
    kind: AddressKind

    @property
    def is_phone(self) -> bool:
        return self.kind == "e164"


def parse_phone(raw: str, default_region: str) -> str:
    """A phone number in E.164, or InvalidAddress with the reason."""
    text = raw.strip()
    if not text or len(text) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress("empty or over-long phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidAddress(f"not a phone number: {error}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidAddress("not a possible phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def parse_address(raw: str, default_region: str) -> Address:
    """Classify and normalise a provider's From/To value; short codes and sender ids stay as they are.

    Cached: our own numbers come back with every message, and a conversation's number with each turn.
    """
    text = raw.strip()
    # Twilio prefixes channel addresses (whatsapp:+1..., messenger:...); SMS has none.
    if ":" in text:
        channel, _, rest = text.partition(":")
        if channel.lower() not in {"sms", "tel"}:
            raise InvalidAddress(f"unsupported channel {channel!r}")
        text = rest.strip()
    if any(shape.fullmatch(text) for shape in SERVICE_IDS):
        return Address(text, "service")
    if SHORT_CODE.match(text):
        return Address(text, "short_code")
    if not text.startswith("+") and ALPHANUMERIC.match(text):
        return Address(text, "alphanumeric")
    return Address(parse_phone(text, default_region), "e164")
