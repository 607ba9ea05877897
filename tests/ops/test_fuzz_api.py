"""Fuzz every operation of the OpenAPI document with schemathesis, in-process through the Flask app, on SQLite.

Each operation gets FUZZ_EXAMPLES (100 by default) generated requests, valid and invalid by the document
(wrong types, out-of-range values, missing and unexpected fields, odd characters), sent with the test API
token; none may answer 5xx, every answer must be documented (status, content type, JSON schema), and a JSON
body the document calls invalid must be refused with a 4xx. Derandomized, so a failure replays as it is.
Nightly: `FUZZ_EXAMPLES=2000 FUZZ_RANDOM=1` (tests/ops/fuzzing.py); `--hypothesis-show-statistics` prints
the example counts (an operation without inputs, /ledger/verify and /openapi.json, has exactly one).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import event, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.api import openapi_document
from tests.conftest import API_TOKEN
from tests.ops.fuzzing import database_url, fuzz_settings  # noqa: F401 - database_url: SQLite only
from tests.ops.pages_setup import enable_pages

CONFIG = schemathesis.Config.from_dict({
    # Generated data only: the document has no examples to replay, and coverage and stateful phases would
    # multiply the requests past what the suite can spend here.
    "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}, "stateful": {"enabled": False}},
    # Valid and invalid data; every request carries the real token (tests/ops/test_fuzz.py fuzzes the header).
    "generation": {"mode": "all", "with-security-parameters": False},
})
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)
ANSWERS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def fuzz_app(app: Flask, tmp_path: Path) -> Flask:
    """The app with links signed, so /links is fuzzed past its 503."""
    return enable_pages(app, tmp_path)


@schema.parametrize()
@fuzz_settings()
def test_every_operation(fuzz_app: Flask, case: schemathesis.Case[Any]) -> None:
    response = case.call(app=fuzz_app, headers={"Authorization": f"Bearer {API_TOKEN}"})
    checks = list(ANSWERS)
    # Invalid CSV is still text: only a JSON body keeps the types the document gives it, so only there must
    # an invalid one be refused (a CSV "[]" is one bad row, answered in the result).
    if case.media_type in (None, "application/json"):
        checks.append(negative_data_rejection)
    case.validate_response(response, checks=checks)


# Every JSON field of every operation, one at a time, from the document: a value of a type the document does
# not allow gets a 400 naming the field; a hostile value of an allowed type (lone surrogates, control and
# other scripts' characters, date-times at the ends of the range in any offset) never a 5xx.
VALID_BODIES: dict[str, dict[str, Any]] = {
    "/suppressions": {"number": "+14155550100", "reason": "asked"},
    "/scrub": {"numbers": ["+14155550100"]},
    "/erasures": {"number": "+14155550199", "reason": "asked"},
    "/links": {"number": "+14155550100", "sender": "+18005550199"},
}
JSON_TYPES = {
    "string": st.text(max_size=5), "integer": st.integers(), "number": st.floats(allow_nan=False),
    "boolean": st.booleans(), "array": st.lists(st.text(max_size=5), max_size=2),
    "object": st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2), "null": st.none(),
}
SAMPLES = {"number": "+14155550100", "sender": "+18005550199", "topic": "offers", "reason": "asked",
           "until": "2030-01-01T00:00:00+00:00", "language": "es", "message": "Sale today", "numbers": "+14155550100", "reach": "brand"}
"""A good value per field: wrapped in a list or an object, or as a JSON number, it must not slip through str()."""
text = st.text(max_size=15)
hostile_text = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.builds(lambda before, surrogate, after: before + surrogate + after, text, st.characters(categories=["Cs"]), text),
)
extreme_times = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)) | st.sampled_from(
        [datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)]),
    st.integers(-14 * 60, 14 * 60),
)


def json_operations() -> list[tuple[str, dict[str, Any]]]:
    """(path, body schema) of every operation the document gives a JSON body."""
    found = []
    for path, item in openapi_document()["paths"].items():
        for operation in item.values():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            if "application/json" in content:
                found.append((path, content["application/json"]["schema"]))
    return found


def test_every_json_operation_has_a_valid_body() -> None:
    assert sorted(VALID_BODIES) == sorted(path for path, _ in json_operations())


def field_values(schema: dict[str, Any]) -> st.SearchStrategy[tuple[str, str, object]]:
    """(field, "wrong" or "hostile", value) for the body's fields."""
    choices = []
    for name, field in schema["properties"].items():
        allowed = field.get("type", list(JSON_TYPES))
        allowed = [allowed] if isinstance(allowed, str) else allowed
        wrong = [JSON_TYPES[kind] for kind in JSON_TYPES if kind not in allowed and not (kind == "integer" and "number" in allowed)]
        sample = SAMPLES[name]
        disguised = {"array": [sample], "object": {"value": sample}, "integer": int("".join(filter(str.isdigit, sample)) or 0)}
        wrong += [st.just(value) for kind, value in disguised.items() if kind not in allowed]
        if wrong:
            choices.append(st.tuples(st.just(name), st.just("wrong"), st.one_of(wrong)))
        if "string" in allowed:
            text = extreme_times if field.get("format") == "date-time" else hostile_text
            choices.append(st.tuples(st.just(name), st.just("hostile"), text))
    return st.one_of(choices)


@pytest.mark.parametrize(("path", "schema"), json_operations(), ids=[path for path, _ in json_operations()])
@fuzz_settings()
@given(data=st.data())
def test_every_json_field(fuzz_app: Flask, path: str, schema: dict[str, Any], data: st.DataObject) -> None:
    name, kind, value = data.draw(field_values(schema))
    body = json.dumps({**VALID_BODIES[path], name: value})  # a lone surrogate goes as its \\ud800 escape
    response = fuzz_app.test_client().post(f"/api/v1{path}", data=body, content_type="application/json",
                                           headers={"Authorization": f"Bearer {API_TOKEN}"})
    event(f"{kind} {name}: HTTP {response.status_code}")
    assert response.status_code < 500, response.data
    if kind == "wrong":
        assert response.status_code == 400 and name in (response.json or {})["error"], (name, value, response.data)
