"""SMS encoding and segment counting (GSM 03.38 7-bit with extension table, else UCS-2)."""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension-table characters cost two septets (an escape plus the character).
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True, slots=True)
class Encoding:
    """How a text travels as SMS: encoding, length in its units, and segment count."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int     # septets for GSM-7, UTF-16 code units for UCS-2
    chars: int
    segments: int
    first_non_gsm: str | None = None


def _segments(units: int, single: int, multi: int) -> int:
    if units <= single:
        return 1
    return -(-units // multi)


def measure(text: str) -> Encoding:
    """Measure ``text`` the way carriers bill it."""
    septets = 0
    for ch in text:
        if ch in GSM7_BASIC:
            septets += 1
        elif ch in GSM7_EXTENSION:
            septets += 2
        else:
            units = len(text.encode("utf-16-le")) // 2
            return Encoding("UCS-2", units, len(text), _segments(units, UCS2_SINGLE, UCS2_MULTI), ch)
    return Encoding("GSM-7", septets, len(text), _segments(septets, GSM7_SINGLE, GSM7_MULTI))
