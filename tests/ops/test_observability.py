"""What operators see: /healthz, /readyz, /metrics, and JSON logs without numbers or bodies."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway import create_app
from gateway.ops.logs import JsonFormatter, mask_numbers
from tests.conftest import API_TOKEN, KEYWORDS_FILE, LEDGER_KEY, NUMBER_HASH_KEY, TWILIO_TOKEN
from tests.helpers import Api, Twilio

NUMBER = "+14155550100"
SECRET_BODY = "STOP my secret words 4155550100"


def metric(text: str, name: str, labels: str = "") -> float:
    """One sample's value from the Prometheus text (0 when absent)."""
    pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" ([0-9.e+-]+)$"
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def scrape(client: FlaskClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_healthz_and_readyz(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "keywords": "ok"}


def test_broken_keyword_file_shows_in_readyz_and_metrics(database_url: str, tmp_path: Path) -> None:
    keywords = tmp_path / "keywords.yaml"
    shutil.copy(KEYWORDS_FILE, keywords)
    app = create_app(
        {
            "TESTING": True, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "API_TOKENS": (API_TOKEN,), "KEYWORDS_FILE": str(keywords), "KEYWORDS_CHECK_INTERVAL": 0,
            "SPOOL_PATH": str(tmp_path / "spool.db"), "LEDGER_KEYS": LEDGER_KEY, "NUMBER_HASH_KEY": NUMBER_HASH_KEY,
        }
    )
    client = app.test_client()
    try:
        keywords.write_text("languages: [this is: not valid\n")
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["checks"]["keywords"].startswith("refused edit")
        text = scrape(client)
        assert metric(text, "gateway_keywords_reload_failing") == 1
        assert metric(text, "gateway_keywords_reload_failures_total") >= 1
        # The last good rules still answer STOP.
        assert b"<Message>" in Twilio(client).sms("STOP").data
    finally:
        app.extensions["gateway.database"].dispose()


def test_metrics_count_requests_decisions_and_latency(client: FlaskClient) -> None:
    before = scrape(client)
    Twilio(client).sms("STOP", from_=NUMBER)
    Twilio(client).sms("hello there", from_=NUMBER)
    Api(client).suppression(NUMBER)
    after = scrape(client)
    route = 'route="/webhooks/twilio/sms"'
    for name, labels, delta in [
        ("gateway_http_requests_total", f'method="POST",{route},status="200"', 2),
        ("gateway_decisions_total", 'intent="opt_out",tier="exact"', 1),
        ("gateway_decisions_total", 'intent="none",tier="none"', 1),
        ("gateway_http_request_duration_seconds_count", route, 2),
        ("gateway_http_request_duration_seconds_count", 'route="/api/v1/suppressions/<path:number>"', 1),
    ]:
        assert metric(after, name, labels) - metric(before, name, labels) == delta, (name, labels)
    assert metric(after, "gateway_spool_depth") == 0
    assert 'gateway_http_request_duration_seconds_bucket{le="0.05",route="/webhooks/twilio/sms"}' in after


def test_metrics_are_for_loopback_or_the_metrics_token(app: Flask, client: FlaskClient) -> None:
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    app.config["METRICS_TOKEN"] = "scrape-token"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer scrape-token"}).status_code == 200


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        pytest.param("+14155550100", "+1415*****00", id="e164"),
        pytest.param("from 4155550100.", "from 4155****00.", id="national-digits"),
        pytest.param("SM1234567890abcdef1234567890abcdef", "SM1234567890abcdef1234567890abcdef", id="sid-untouched"),
        pytest.param("short code 86753", "short code 86753", id="short-code-untouched"),
        pytest.param("/api/v1/suppressions/+447700900123", "/api/v1/suppressions/+4477******23", id="api-path"),
    ],
)
def test_mask_numbers(text: str, masked: str) -> None:
    assert mask_numbers(text) == masked


def test_logs_are_json_with_numbers_masked_and_no_bodies(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    Twilio(client).sms(SECRET_BODY, from_=NUMBER)
    Twilio(client).sms("STOP", from_=NUMBER)
    Api(client).suppression(NUMBER)
    lines = [JsonFormatter().format(record) for record in caplog.records]
    entries = [json.loads(line) for line in lines]
    assert any(entry.get("event") == "inbound" and entry.get("from") == "+1415*****00" for entry in entries)
    assert any(entry.get("event") == "request" and entry.get("path") == "/api/v1/suppressions/+1415*****00"
               for entry in entries)
    for line in lines:
        assert "secret words" not in line and NUMBER not in line and "4155550100" not in line
