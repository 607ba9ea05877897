"""Reading number lists for the bulk API: JSON arrays and CSV files, with line-numbered errors.

A CSV file may start with a header naming its columns (`number`, and optionally `sender` and
`topic`; providers' exports call the number `phone`, `phone_number`, `msisdn`...); without one,
the first column is the number. Numbers already in E.164 for the North American plan (`+1` and
ten digits) are taken as they are (that is exactly what phonenumbers would answer, checked
in tests); anything else goes through phonenumbers, which is 20 times slower.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from gateway.addresses import parse_address, parse_phone
from gateway.errors import InvalidAddress
from storage.bulk import ImportRow
from storage.models import ALL_TOPICS, GLOBAL_SCOPE

NANP_E164 = re.compile(r"\+1\d{10}")
NUMBER_HEADERS = frozenset({"number", "phone", "phone_number", "phonenumber", "msisdn", "mobile", "e164", "to", "recipient"})
SENDER_HEADERS = frozenset({"sender", "sender_scope", "scope", "from", "messaging_service_sid"})
TOPIC_HEADERS = frozenset({"topic", "category"})
MAX_REPORTED_ERRORS = 100
MAX_TOPIC = 64


@dataclass(frozen=True)
class RowError:
    """One bad row: its line in the file (or index in a JSON list), the value and why."""

    line: int
    value: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "value": self.value[:80], "reason": self.reason}


class RowsRejected(Exception):
    """An import with bad rows: nothing was written; `errors` names them by line."""

    def __init__(self, errors: list[RowError], total: int) -> None:
        super().__init__(f"{total} bad row(s); nothing was imported")
        self.errors = errors
        self.total = total


def normalise(raw: str, region: str) -> str:
    """E.164 for a phone number, or InvalidAddress with the reason."""
    text = raw.strip()
    if NANP_E164.fullmatch(text):
        return text
    return parse_phone(text, region)


def scope_of(raw: str, region: str) -> str:
    """A sender scope: '*' (every sender), an E.164 number, a short code, sender id or MG... service."""
    text = raw.strip()
    if text == GLOBAL_SCOPE:
        return text
    return parse_address(text, region).value


def topic_of(raw: str | None) -> str:
    """A topic (64 printable characters), '*' when none is given."""
    if raw is None or not raw.strip():
        return ALL_TOPICS
    text = raw.strip()
    if len(text) > MAX_TOPIC or not text.isprintable():
        raise InvalidAddress("topic: at most 64 printable characters")
    return text


@dataclass(frozen=True)
class Columns:
    """Which columns of a CSV file hold the number, sender and topic."""

    number: int
    sender: int | None
    topic: int | None


def _columns(first: list[str]) -> Columns | None:
    """The column layout a header row names, or None when the first row is data."""
    names = [cell.strip().lower() for cell in first]
    number = next((i for i, name in enumerate(names) if name in NUMBER_HEADERS), None)
    if number is None:
        return None
    sender = next((i for i, name in enumerate(names) if name in SENDER_HEADERS), None)
    topic = next((i for i, name in enumerate(names) if name in TOPIC_HEADERS), None)
    return Columns(number, sender, topic)


def read_csv(stream: IO[bytes]) -> Iterator[tuple[int, list[str], Columns]]:
    """(first line of the record, cells, layout) per data row; UnicodeDecodeError and csv.Error pass through."""
    reader = csv.reader(codecs.iterdecode(stream, "utf-8-sig"))
    layout: Columns | None = None
    start = 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if layout is None:
            layout = _columns(cells)
            if layout is not None:
                continue
            layout = Columns(0, None, None)
        if not cells or not any(cell.strip() for cell in cells):
            continue
        yield line, cells, layout


def _cell(cells: list[str], index: int | None) -> str | None:
    return cells[index] if index is not None and index < len(cells) else None


def import_rows(stream: IO[bytes], region: str, sender: str | None, topic: str) -> list[ImportRow]:
    """Every row of an import file, or RowsRejected naming the bad ones (the first 100) by line."""
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    total = 0
    try:
        for line, cells, layout in read_csv(stream):
            raw = _cell(cells, layout.number) or ""
            try:
                row_sender = _cell(cells, layout.sender)
                scope = scope_of(row_sender, region) if row_sender and row_sender.strip() else sender
                if scope is None:
                    raise InvalidAddress("no sender: give a sender column or ?sender= (* for every sender)")
                row_topic = _cell(cells, layout.topic)
                rows.append(ImportRow(line, normalise(raw, region), scope, topic_of(row_topic) if row_topic else topic))
            except InvalidAddress as error:
                total += 1
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.append(RowError(line, raw, str(error)))
    except (UnicodeDecodeError, csv.Error) as error:
        raise RowsRejected([RowError(0, "", f"not a UTF-8 CSV file: {error}")], 1) from None
    if errors:
        raise RowsRejected(errors, total)
    return rows


def number_list(values: list[object], region: str) -> tuple[list[str], list[RowError]]:
    """Normalised numbers and the invalid entries of a JSON list (`line` is the 0-based index)."""
    numbers: list[str] = []
    invalid: list[RowError] = []
    for index, value in enumerate(values):
        if not isinstance(value, str):
            invalid.append(RowError(index, repr(value), "not a string"))
            continue
        try:
            numbers.append(normalise(value, region))
        except InvalidAddress as error:
            invalid.append(RowError(index, value, str(error)))
    return numbers, invalid


def number_csv(stream: IO[bytes], region: str) -> tuple[list[str], list[RowError]]:
    """Normalised numbers and invalid rows (by line) of a CSV upload for a scrub."""
    numbers: list[str] = []
    invalid: list[RowError] = []
    for line, cells, layout in read_csv(stream):
        raw = _cell(cells, layout.number) or ""
        try:
            numbers.append(normalise(raw, region))
        except InvalidAddress as error:
            invalid.append(RowError(line, raw, str(error)))
    return numbers, invalid
