"""Reading number lists for the bulk API: JSON arrays and CSV files, with line-numbered errors; writing the export.

A CSV file may start with a header naming its columns (`number`, and optionally `sender` and
`topic`; providers' exports call the number `phone`, `phone_number`, `msisdn`...); without one,
the first column is the number. Numbers already in E.164 for the North American plan (`+1` and
ten digits) are taken as they are (that is exactly what phonenumbers would answer, checked
in tests); anything else goes through phonenumbers, which is 20 times slower.

The export is safe to open in a spreadsheet (OWASP's CSV injection advice): every field is
wrapped in double quotes (so a `,` or `;` inside a value never starts a new cell, whatever
separator the spreadsheet's locale uses), and a value that a spreadsheet would read as a
formula gets a single quote in front. The rule, one cell at a time (`export_cell`):

- an E.164 number (`+` and 1 to 15 ASCII digits, what our parsing produces) stays as it is;
- a value starting with `=`, `+`, `-`, `@`, tab, CR or LF, or with a single quote, or with
  whitespace at either end, is written as `'` followed by the value;
- anything else is written as it is.

Reading a cell (`read_cell`, on every cell an import looks at) is the exact inverse: a cell
starting with `'` is its value without that one quote, taken verbatim (spaces included); any
other cell is stripped of outer whitespace, as hand-made files need. Since a value that starts
with a quote is always quoted again on export, the rule is unambiguous and every export imports
back unchanged. The price: another system's cell whose value really starts with one `'` loses it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from gateway.addresses import parse_address, parse_phone
from gateway.errors import InvalidAddress
from storage.consent.bulk import ImportRow
from storage.lists import collector_paused
from storage.models import ALL_TOPICS, GLOBAL_SCOPE

# ASCII digits only: \d would let other scripts' digits through, which phonenumbers converts.
NANP_E164 = re.compile(r"\+1[0-9]{10}")
E164 = re.compile(r"\+[0-9]{1,15}")
# OWASP's formula triggers, and our own quote prefix so that a value starting with one round-trips.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
QUOTE = "'"
EXPORT_COLUMNS = ("number", "sender", "topic", "until", "source", "since")
NUMBER_HEADERS = frozenset({"number", "phone", "phone_number", "phonenumber", "msisdn", "mobile", "e164", "to", "recipient"})
SENDER_HEADERS = frozenset({"sender", "sender_scope", "scope", "from", "messaging_service_sid"})
TOPIC_HEADERS = frozenset({"topic", "category"})
MAX_REPORTED_ERRORS = 100
NO_COLUMN = -1
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


def _valid_topic(text: str) -> str:
    """`text` itself when it is a topic (64 printable characters), '*' when it is empty."""
    if not text:
        return ALL_TOPICS
    if len(text) > MAX_TOPIC or not text.isprintable():
        raise InvalidAddress("topic: at most 64 printable characters")
    return text


def topic_of(raw: str | None) -> str:
    """A topic (64 printable characters, outer spaces dropped), '*' when none is given."""
    return ALL_TOPICS if raw is None else _valid_topic(raw.strip())


def export_cell(value: str) -> str:
    """A value as the export writes it: quoted with `'` where a spreadsheet could take it for a formula."""
    if value and (value.startswith(FORMULA_START + (QUOTE,)) or value != value.strip()) and not E164.fullmatch(value):
        return QUOTE + value
    return value


def read_cell(cell: str) -> str:
    """The value of an import cell: an export's `'` prefix removed exactly, any other cell stripped."""
    return cell[1:] if cell.startswith(QUOTE) else cell.strip()


def export_writer(stream: IO[str]) -> Any:
    """A CSV writer for the export: every field in double quotes, so no separator inside a value starts a cell."""
    return csv.writer(stream, quoting=csv.QUOTE_ALL)


def export_row(number: str, scope: str, topic: str, until: datetime | None, source: str, since: datetime) -> list[str]:
    """One exported suppression, each cell through `export_cell`."""
    cells = (number, scope, topic, until.isoformat() if until else "", source, since.isoformat())
    return [export_cell(cell) for cell in cells]


def _columns(first: list[str]) -> tuple[int, int, int] | None:
    """The columns a header row names for the number, sender and topic (-1: none), or None when the first row is data."""
    names = [cell.strip().lower() for cell in first]

    def find(headers: frozenset[str]) -> int:
        return next((i for i, name in enumerate(names) if name in headers), NO_COLUMN)

    number = find(NUMBER_HEADERS)
    return None if number == NO_COLUMN else (number, find(SENDER_HEADERS), find(TOPIC_HEADERS))


def read_csv(stream: IO[bytes]) -> Iterator[tuple[int, str, str | None, str | None]]:
    """(first line of the record, number, sender, topic) per data row; UnicodeDecodeError and csv.Error pass through.

    The number is "" and the sender and topic None where the row or the layout has no such cell.
    """
    # newline="" leaves line endings to the csv module, which needs them for quoted newlines.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text)
        layout: tuple[int, int, int] | None = None
        start = 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if layout is None:
                header = _columns(cells)
                number, sender, topic = layout = header or (0, NO_COLUMN, NO_COLUMN)
                if header is not None:
                    continue
            if any(map(str.strip, cells)):
                width = len(cells)
                yield (line, cells[number] if number < width else "", cells[sender] if NO_COLUMN < sender < width else None,
                       cells[topic] if NO_COLUMN < topic < width else None)
    finally:
        text.detach()  # the caller's stream stays open


def _remember(parse: Callable[[str], str]) -> Callable[[str], str]:
    """`parse` run once per distinct value: an export repeats one sender or topic on every row."""
    answers: dict[str, str] = {}
    reasons: dict[str, str] = {}

    def remembered(raw: str) -> str:
        answer = answers.get(raw)
        if answer is None:
            if raw in reasons:
                raise InvalidAddress(reasons[raw])
            try:
                answer = answers[raw] = parse(raw)
            except InvalidAddress as error:
                reasons[raw] = str(error)
                raise
        return answer

    return remembered


@collector_paused()
def import_rows(stream: IO[bytes], region: str, sender: str | None, topic: str) -> list[ImportRow]:
    """Every row of an import file, or RowsRejected naming the bad ones (the first 100) by line."""
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    total = 0
    scope_for = _remember(lambda raw: scope_of(raw, region))
    topic_for = _remember(_valid_topic)
    try:
        for line, raw, row_sender, row_topic in read_csv(stream):
            try:
                sender_cell = read_cell(row_sender or "")
                scope = scope_for(sender_cell) if sender_cell.strip() else sender
                if scope is None:
                    raise InvalidAddress("no sender: give a sender column or ?sender= (* for every sender)")
                row_topic_value = topic_for(read_cell(row_topic)) if row_topic else topic
                rows.append(ImportRow(line, normalise(read_cell(raw), region), scope, row_topic_value))
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
    for line, raw, _, _ in read_csv(stream):
        try:
            numbers.append(normalise(read_cell(raw), region))
        except InvalidAddress as error:
            invalid.append(RowError(line, raw, str(error)))
    return numbers, invalid
