"""Fixtures for the link page and dashboard: an app with a SECRET_KEY and its own copy of keywords.yaml."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from gateway import create_app
from storage import ConsentEvent, Database, Suppression
from storage.feedback import LinkChoice
from tests.conftest import API_TOKEN, KEYWORDS_FILE, TWILIO_TOKEN

SECRET = "test-secret-key-for-links-and-sessions"
STAFF_TOKEN = "test-staff-token"
NUMBER = "+14155550100"
SENDER = "+18005550199"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def keywords_file(tmp_path: Path) -> Path:
    """A private copy of keywords.yaml: the dashboard may write to it."""
    path = tmp_path / "keywords.yaml"
    shutil.copy(KEYWORDS_FILE, path)
    return path


@pytest.fixture
def app(database_url: str, keywords_file: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "API_TOKENS": (API_TOKEN,),
            "STAFF_TOKENS": (STAFF_TOKEN,),
            "SECRET_KEY": SECRET,
            "KEYWORDS_FILE": str(keywords_file),
            "KEYWORDS_CHECK_INTERVAL": 0.0,
            "PUBLIC_BASE_URL": "https://sms.example.org",
        }
    )
    yield app
    app.extensions["gateway.database"].dispose()


def mint(client: FlaskClient, number: str = NUMBER, sender: str = SENDER, **fields: Any) -> TestResponse:
    """POST /api/v1/links with the test API token."""
    return client.post(
        "/api/v1/links", json={"number": number, "sender": sender, **fields},
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )


def token_of(client: FlaskClient, **fields: Any) -> str:
    """A freshly minted link's token."""
    response = mint(client, **fields)
    assert response.status_code in (200, 201), response.text
    return str(response.json["token"])


def csrf_of(page: TestResponse) -> str:
    """The CSRF field of a rendered form."""
    found = CSRF.search(page.text)
    assert found, "no CSRF field on the page"
    return found.group(1)


def counts(database: Database) -> dict[str, int]:
    """Rows in the ledger, the suppression list and the link choices: what a GET must never change."""
    with database.begin() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (ConsentEvent, Suppression, LinkChoice)
        }
