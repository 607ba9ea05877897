"""Fuzz every operation of the OpenAPI document with schemathesis, in-process through the Flask app, on SQLite.

Each operation gets FUZZ_EXAMPLES (100 by default) generated requests, valid and invalid by the document
(wrong types, out-of-range values, missing and unexpected fields, odd characters), sent with the test API
token; none may answer 5xx, every answer must be documented (status, content type, JSON schema), and a JSON
body the document calls invalid must be refused with a 4xx. Derandomized, so a failure replays as it is.
Nightly: `FUZZ_EXAMPLES=2000 FUZZ_RANDOM=1` (tests/ops/fuzzing.py); `--hypothesis-show-statistics` prints
the example counts (an operation without inputs, /ledger/verify and /openapi.json, has exactly one).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.api import openapi_document
from tests.conftest import API_TOKEN
from tests.ops.fuzzing import fuzz_settings
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
def database_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: the fuzzing looks for bad input handling, which no backend changes."""
    path = tmp_path / "gateway.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def fuzz_app(app: Flask, tmp_path: Path) -> Flask:
    """The app with links signed, so /links is fuzzed past its 503."""
    return enable_pages(app, tmp_path)


@schema.parametrize()
@fuzz_settings()
def test_every_operation(fuzz_app: Flask, case: schemathesis.Case) -> None:
    response = case.call(app=fuzz_app, headers={"Authorization": f"Bearer {API_TOKEN}"})
    checks = list(ANSWERS)
    # Invalid CSV is still text: only a JSON body keeps the types the document gives it, so only there must
    # an invalid one be refused (a CSV "[]" is one bad row, answered in the result).
    if case.media_type in (None, "application/json"):
        checks.append(negative_data_rejection)
    case.validate_response(response, checks=checks)
