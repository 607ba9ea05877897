"""Fixtures for the link page and dashboard: an app with a SECRET_KEY and its own copy of keywords.yaml."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from keywords import RulesHolder
from storage import ConsentEvent, Database, Suppression
from storage.links import LinkChoice
from tests.conftest import API_TOKEN, KEYWORDS_FILE

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
def app(app: Flask, keywords_file: Path) -> Flask:
    """The shared app, with a SECRET_KEY, a staff token and rules read from its own copy of keywords.yaml."""
    app.config.update(SECRET_KEY=SECRET, STAFF_TOKENS=(STAFF_TOKEN,), KEYWORDS_FILE=str(keywords_file))
    # The app's consent path reads the same holder.
    app.extensions["gateway.rules"] = app.extensions["gateway.inbound"].rules = RulesHolder(keywords_file, check_interval=0.0)
    return app


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


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app behind a real HTTP server on a free loopback port, for the browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright; skipped, saying why, when it is not installed."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it): browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def phone(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A phone-sized, touch-enabled page; `@pytest.mark.parametrize("phone_options", ...)` may change it."""
    options = {"viewport": PHONE, "has_touch": True, "is_mobile": True, "locale": "en-US",
               **getattr(request, "param", {})}
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
