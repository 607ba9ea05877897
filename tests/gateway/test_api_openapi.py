"""The OpenAPI document matches the routes, and real answers match its schemas."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

from tests.conftest import API_TOKEN
from tests.helpers import Twilio

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def document(client: FlaskClient) -> dict[str, Any]:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    return answer.json  # type: ignore[no-any-return]


def test_every_route_is_documented_and_every_documented_route_exists(app: Flask, client: FlaskClient) -> None:
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1")), method.lower())
        for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
        for method in (rule.methods or set()) - IGNORED_METHODS
    }
    documented = {
        (path, method) for path, item in document(client)["paths"].items()
        for method in item if method in {"get", "post", "put", "patch", "delete"}
    }
    assert routes == documented


def test_every_schema_is_valid_json_schema(client: FlaskClient) -> None:
    for name, schema in document(client)["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert name[0].isupper()


def pointer(*parts: str) -> str:
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def check(doc: dict[str, Any], path: str, method: str, answer: TestResponse) -> None:
    """The answer's status is documented for the operation, and a JSON body matches its schema."""
    responses = doc["paths"][path][method]["responses"]
    status = str(answer.status_code)
    assert status in responses, f"{method.upper()} {path} answered undocumented {status}"
    response = responses[status]
    where: tuple[str, ...] = ("paths", path, method, "responses", status)
    if "$ref" in response:
        where = ("components", "responses", response["$ref"].rsplit("/", 1)[1])
        response = doc["components"]["responses"][where[-1]]
    assert answer.mimetype in response.get("content", {}), f"{answer.mimetype} not documented for {status}"
    if answer.mimetype == "application/json":
        validator = Draft202012Validator({**doc, "$ref": pointer(*where, "content", "application/json", "schema")})
        errors = [error.message for error in validator.iter_errors(answer.json)]
        assert errors == [], f"{method.upper()} {path} {status}: {errors}"


CALLS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("check", "get", "/suppressions/{number}", {"path": "/api/v1/suppressions/+14155550100", "query_string": {"sender": "+18005550199"}}),
    ("check-bad", "get", "/suppressions/{number}", {"path": "/api/v1/suppressions/nope"}),
    ("check-unauthenticated", "get", "/suppressions/{number}", {"path": "/api/v1/suppressions/+14155550100", "headers": {}}),
    ("suppress", "post", "/suppressions", {"path": "/api/v1/suppressions", "json": {"number": "+14155550101", "reason": "x"}}),
    ("suppress-bad", "post", "/suppressions", {"path": "/api/v1/suppressions", "json": {"number": "+14155550101"}}),
    ("unsuppress", "delete", "/suppressions/{number}", {"path": "/api/v1/suppressions/+14155550100", "query_string": {"reason": "x"}}),
    ("scrub", "post", "/scrub", {"path": "/api/v1/scrub", "json": {"numbers": ["+14155550100", "x"], "sender": "+18005550199"}}),
    ("scrub-csv", "post", "/scrub", {"path": "/api/v1/scrub", "data": b"+14155550100\n", "content_type": "text/csv"}),
    ("import", "post", "/imports", {"path": "/api/v1/imports", "query_string": {"sender": "*"}, "data": b"+14155550102\n", "content_type": "text/csv"}),
    ("import-bad", "post", "/imports", {"path": "/api/v1/imports", "query_string": {"sender": "*"}, "data": b"x\n", "content_type": "text/csv"}),
    ("export", "get", "/export/suppressions.csv", {"path": "/api/v1/export/suppressions.csv"}),
    ("history", "get", "/history/{number}", {"path": "/api/v1/history/+14155550100"}),
    ("history-text", "get", "/history/{number}", {"path": "/api/v1/history/+14155550100", "query_string": {"format": "text"}}),
    ("erase", "post", "/erasures", {"path": "/api/v1/erasures", "json": {"number": "+14155550100", "reason": "asked"}}),
    ("verify", "get", "/ledger/verify", {"path": "/api/v1/ledger/verify"}),
    ("openapi", "get", "/openapi.json", {"path": "/api/v1/openapi.json"}),
    ("preferences", "get", "/preferences/{number}", {"path": "/api/v1/preferences/+14155550100", "query_string": {"sender": "+18005550199"}}),
    ("revoke-links", "delete", "/links/{number}", {"path": "/api/v1/links/+14155550100"}),
]


@pytest.mark.parametrize(("method", "path", "call"), [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_answers_match_the_document(client: FlaskClient, method: str, path: str, call: dict[str, Any]) -> None:
    Twilio(client).sms("STOP", from_="+14155550100", to="+18005550199")
    doc = document(client)
    call = {"headers": AUTH, **call}
    answer = client.open(method=method.upper(), **call)
    check(doc, path, method, answer)
