"""The compliance API: staff suppressions, scrub, CSV import and export, history and erasure, over HTTP."""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from storage import ConsentEvent
from tests.conftest import API_TOKEN
from tests.helpers import Api, Twilio

SENDER = "+18005550199"
OTHER = "+18005550111"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
BARE_OWNER = "token:" + hashlib.sha256(API_TOKEN.encode()).hexdigest()[:8]


def actors(app: Flask) -> list[tuple[str, str | None]]:
    with app.extensions["gateway.database"].begin() as session:
        return [(e.action, e.actor) for e in session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))]


def test_staff_suppress_and_unsuppress_record_the_token_owner(app: Flask, client: FlaskClient) -> None:
    app.config["API_TOKENS"] = ("alice:alice-secret-0123456789", API_TOKEN)
    alice = {"Authorization": "Bearer alice-secret-0123456789"}
    answer = client.post("/api/v1/suppressions", json={"number": "(415) 555-0100", "sender": SENDER, "reason": "called us"}, headers=alice)
    assert answer.status_code == 201
    assert (answer.json["number"], answer.json["suppressed"], answer.json["reason"]) == ("+14155550100", True, "staff")
    again = client.post("/api/v1/suppressions", json={"number": "+14155550100", "sender": SENDER, "reason": "again"}, headers=alice)
    assert (again.status_code, again.json["changed"]) == (200, False)
    assert Api(client).suppression("+14155550100", SENDER).json["suppressed"] is True
    assert Api(client).suppression("+14155550100", OTHER).json["suppressed"] is False
    lifted = client.delete("/api/v1/suppressions/+14155550100", query_string={"sender": SENDER, "reason": "mistake"}, headers=AUTH)
    assert (lifted.status_code, lifted.json["lifted"], lifted.json["suppressed"]) == (200, 1, False)
    assert actors(app) == [("opt_out", "alice"), ("opt_out", "alice"), ("opt_in", BARE_OWNER)]


def test_staff_pause_ends_by_itself_and_global_suppression(client: FlaskClient) -> None:
    paused = client.post("/api/v1/suppressions", json={
        "number": "+14155550100", "sender": SENDER, "until": "2020-01-01T00:00:00+00:00", "reason": "asked for a break"},
        headers=AUTH)
    assert paused.status_code == 201
    assert Api(client).suppression("+14155550100", SENDER).json["suppressed"] is False  # the pause is over
    everywhere = client.post("/api/v1/suppressions", json={"number": "+14155550101", "reason": "complaint"}, headers=AUTH)
    assert everywhere.json["suppressions"][0]["scope"] == "*"
    assert Api(client).suppression("+14155550101", OTHER).json["suppressed"] is True


BAD_STAFF_CALLS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("no-reason", "post", {"number": "+14155550100"}, "reason"),
    ("bad-number", "post", {"number": "not a number", "reason": "x"}, "number"),
    ("naive-until", "post", {"number": "+14155550100", "reason": "x", "until": "2030-01-01T00:00:00"}, "until"),
    ("not-json", "post", None, "JSON"),
    ("control-reason", "post", {"number": "+14155550100", "reason": "a\x00b"}, "reason"),
    ("delete-no-reason", "delete", None, "reason"),
]


@pytest.mark.parametrize(("method", "body", "says"), [r[1:] for r in BAD_STAFF_CALLS], ids=[r[0] for r in BAD_STAFF_CALLS])
def test_bad_staff_calls_get_400_and_change_nothing(app: Flask, client: FlaskClient, method: str, body: dict[str, Any] | None, says: str) -> None:
    if method == "post":
        answer = client.post("/api/v1/suppressions", json=body, headers=AUTH) if body else client.post(
            "/api/v1/suppressions", data="x", headers=AUTH)
    else:
        answer = client.delete("/api/v1/suppressions/+14155550100", headers=AUTH)
    assert answer.status_code == 400
    assert says in answer.json["error"]
    assert actors(app) == []


def test_scrub_json_splits_allowed_suppressed_and_invalid(client: FlaskClient) -> None:
    Twilio(client).sms("STOP", from_="+14155550100", to=SENDER)
    Twilio(client).sms("STOPALL", from_="+14155550101", to=OTHER)
    client.post("/api/v1/suppressions", json={"number": "+14155550102", "sender": SENDER, "topic": "promos", "reason": "x"}, headers=AUTH)
    numbers = ["+14155550100", "4155550101", "+14155550102", "+14155550103", "+14155550103", "hello", 7]
    answer = client.post("/api/v1/scrub", json={"numbers": numbers, "sender": SENDER, "topic": "orders"}, headers=AUTH)
    assert answer.status_code == 200
    body = answer.json
    assert body["allowed"] == ["+14155550102", "+14155550103"]
    assert body["suppressed"] == ["+14155550100", "+14155550101"]
    assert [(e["line"], e["value"]) for e in body["invalid"]] == [(5, "hello"), (6, "7")]
    assert body["counts"] == {"allowed": 2, "suppressed": 2, "invalid": 2}
    promos = client.post("/api/v1/scrub", json={"numbers": numbers[:3], "sender": SENDER, "topic": "promos"}, headers=AUTH)
    assert promos.json["allowed"] == []


def test_scrub_csv_upload(client: FlaskClient) -> None:
    Twilio(client).sms("STOP", from_="+14155550100", to=SENDER)
    data = "name,phone\nAnn,+14155550100\nBob,+14155550104\nEve,555\n".encode()
    answer = client.post("/api/v1/scrub", query_string={"sender": SENDER}, data={"file": (io.BytesIO(data), "list.csv")},
                         headers=AUTH, content_type="multipart/form-data")
    assert answer.status_code == 200, answer.data
    assert (answer.json["allowed"], answer.json["suppressed"]) == (["+14155550104"], ["+14155550100"])
    assert [e["line"] for e in answer.json["invalid"]] == [4]


def test_scrub_rejects_a_body_that_is_not_a_list(client: FlaskClient) -> None:
    answer = client.post("/api/v1/scrub", json={"numbers": "+14155550100"}, headers=AUTH)
    assert (answer.status_code, "numbers" in answer.json["error"]) == (400, True)


IMPORT_OK = "phone_number,sender,topic\n+14155550100,,\n4155550101,+18005550111,promos\n+14155550100,,\n"


def test_import_then_export(client: FlaskClient, app: Flask) -> None:
    answer = client.post("/api/v1/imports", query_string={"sender": SENDER, "note": "old CRM"}, data=IMPORT_OK.encode(),
                         headers={**AUTH, "Content-Type": "text/csv"})
    assert answer.status_code == 201, answer.data
    assert {k: answer.json[k] for k in ("rows", "added", "already", "repeated")} == {"rows": 3, "added": 2, "already": 0, "repeated": 1}
    assert Api(client).suppression("+14155550100", SENDER).json["reason"] == "import"
    assert client.get("/api/v1/suppressions/+14155550101", query_string={"sender": OTHER, "topic": "news"}, headers=AUTH).json["suppressed"] is False
    again = client.post("/api/v1/imports", query_string={"sender": SENDER}, data=IMPORT_OK.encode(), headers={**AUTH, "Content-Type": "text/csv"})
    assert (again.json["added"], again.json["already"]) == (0, 2)
    exported = client.get("/api/v1/export/suppressions.csv", headers=AUTH)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.data.decode())))
    assert [(r["number"], r["sender"], r["topic"], r["source"]) for r in rows] == [
        ("+14155550100", SENDER, "*", "import"), ("+14155550101", OTHER, "promos", "import")]
    only = client.get("/api/v1/export/suppressions.csv", query_string={"sender": OTHER}, headers=AUTH)
    assert len(list(csv.DictReader(io.StringIO(only.data.decode())))) == 1
    assert {a for _, a in actors(app)} == {BARE_OWNER}


BAD_IMPORTS: list[tuple[str, bytes, dict[str, str], list[int]]] = [
    ("bad-number", b"number\n+14155550100\nnope\n+14155550102\n12\n", {"sender": SENDER}, [3, 5]),
    ("no-sender", b"number\n+14155550100\n", {}, [2]),
    ("bad-row-sender", b"number,sender\n+14155550100,not a sender!!\n", {"sender": SENDER}, [2]),
    ("bad-sender-on-every-row", b"number,sender\n+14155550100,not a sender!!\n+14155550101,not a sender!!\n", {"sender": SENDER}, [2, 3]),
    ("bad-topic", b"number,topic\n+14155550100,ok\n+14155550101," + b"x" * 65 + b"\n", {"sender": SENDER}, [3]),
    ("crlf-and-short-rows", b"phone,sender,topic\r\n+14155550100\r\n\r\nnope,,\r\n", {"sender": SENDER}, [4]),
    ("quoted-newline", b'number,topic\n+14155550100,"two\nlines"\n"x",\n', {"sender": SENDER}, [2, 4]),
    ("not-utf8", b"number\n\xff\xfe\n", {"sender": SENDER}, [0]),
]


@pytest.mark.parametrize(("data", "query", "lines"), [r[1:] for r in BAD_IMPORTS], ids=[r[0] for r in BAD_IMPORTS])
def test_a_bad_import_names_its_lines_and_imports_nothing(app: Flask, client: FlaskClient, data: bytes, query: dict[str, str], lines: list[int]) -> None:
    answer = client.post("/api/v1/imports", query_string=query, data=data, headers={**AUTH, "Content-Type": "text/csv"})
    assert answer.status_code == 400
    assert [e["line"] for e in answer.json["errors"]] == lines
    assert actors(app) == []
    assert Api(client).suppression("+14155550100").json["suppressed"] is False


def test_history_json_and_text(client: FlaskClient) -> None:
    Twilio(client).sms("STOP", from_="+14155550100", to=SENDER)
    Twilio(client).sms("START", from_="+14155550100", to=SENDER)
    record = client.get("/api/v1/history/+14155550100", headers=AUTH).json
    assert [(e["action"], e["changed"], e["message"]["body"]) for e in record["events"]] == [("opt_out", True, "STOP"), ("opt_in", True, "START")]
    assert record["events_hash_ok"] is True and record["suppressed"] is False
    text = client.get("/api/v1/history/+14155550100", query_string={"format": "text"}, headers=AUTH).data.decode()
    assert "opt_out +18005550199" in text and "'START'" in text and "MISMATCH" not in text


def test_erasure_over_the_api(client: FlaskClient) -> None:
    Twilio(client).sms("STOP", from_="+14155550100", to=SENDER)
    answer = client.post("/api/v1/erasures", json={"number": "+14155550100", "reason": "request 17"}, headers=AUTH)
    assert answer.status_code == 200 and answer.json["suppressed"] is True
    assert Api(client).suppression("+14155550100", OTHER).json["suppressed"] is True
    scrub = client.post("/api/v1/scrub", json={"numbers": ["+14155550100", "+14155550101"], "sender": OTHER}, headers=AUTH)
    assert scrub.json["suppressed"] == ["+14155550100"]
    assert client.get("/api/v1/ledger/verify", headers=AUTH).json["ok"] is True
    record = client.get("/api/v1/history/+14155550100", headers=AUTH).json
    assert record["erased"] is True and all(e["message"] is None or e["message"]["body"] == "" for e in record["events"])


ENDPOINTS = [
    ("get", "/api/v1/suppressions/+14155550100"), ("post", "/api/v1/suppressions"), ("delete", "/api/v1/suppressions/+14155550100"),
    ("post", "/api/v1/scrub"), ("post", "/api/v1/imports"), ("get", "/api/v1/export/suppressions.csv"),
    ("get", "/api/v1/history/+14155550100"), ("post", "/api/v1/erasures"), ("get", "/api/v1/ledger/verify"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=[f"{m}-{p.split('/')[3]}" for m, p in ENDPOINTS])
@pytest.mark.parametrize("token", [None, "wrong"], ids=["no-token", "wrong-token"])
def test_every_operation_needs_a_token(client: FlaskClient, method: str, path: str, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = getattr(client, method)(path, headers=headers, json={"number": "+14155550100", "reason": "x"})
    assert answer.status_code == 401
