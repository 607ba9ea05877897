"""The link page and dashboard switched on for an ops test's app: a SECRET_KEY, a staff token, its own keywords.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from keywords import RulesHolder
from tests.conftest import KEYWORDS_FILE
from tests.pages.conftest import SECRET, STAFF_TOKEN, csrf_of, token_of

__all__ = ["csrf_of", "enable_pages", "sign_in", "token_of"]


def enable_pages(app: Flask, folder: Path) -> Flask:
    """The app with links and staff sessions signed, rules read from a private copy of keywords.yaml."""
    keywords_file = folder / "keywords.yaml"
    shutil.copy(KEYWORDS_FILE, keywords_file)
    app.config.update(SECRET_KEY=SECRET, STAFF_TOKENS=(STAFF_TOKEN,), KEYWORDS_FILE=str(keywords_file))
    # The app's consent path reads the same holder.
    app.extensions["gateway.rules"] = app.extensions["gateway.inbound"].rules = RulesHolder(keywords_file, check_interval=0.0)
    return app


def sign_in(client: FlaskClient) -> str:
    """Sign the client in as staff; the CSRF field of the dashboard's forms."""
    page = client.get("/dashboard/login")
    answer = client.post("/dashboard/login", data={"csrf": csrf_of(page), "token": STAFF_TOKEN})
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/dashboard/?days=7"))
