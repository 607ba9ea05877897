"""The client's Host header never decides the signed URL or a minted link outside development."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from gateway import config, create_app, simulator
from gateway.errors import ConfigError
from tests.conftest import API_TOKEN, KEYWORDS_FILE, LEDGER_KEY, NUMBER_HASH_KEY, TWILIO_TOKEN
from tests.helpers import Twilio

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
LINK = {"number": "+14155550100", "sender": "+18005550199"}


def _app(database_url: str, tmp_path: Path, **settings: object) -> Flask:
    return create_app({
        "TESTING": True, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "API_TOKENS": (API_TOKEN,),
        "LEDGER_KEYS": LEDGER_KEY, "NUMBER_HASH_KEY": NUMBER_HASH_KEY, "KEYWORDS_FILE": str(KEYWORDS_FILE),
        "SPOOL_PATH": str(tmp_path / "spool.db"), "SECRET_KEY": "public-url-test-secret", **settings,
    })


@pytest.fixture
def production(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = _app(database_url, tmp_path, ENV="production", PUBLIC_BASE_URL="https://sms.example.com")
    yield app
    app.extensions["gateway.database"].dispose()


def test_the_signature_is_checked_against_public_base_url_not_host(production: Flask) -> None:
    client = production.test_client()
    form = simulator.inbound_form("STOP", "+14155550100", "+18005550199")
    # Signed for the Host the attacker sends: refused.
    evil = Twilio(client).post(form, sign_url="http://evil.example/webhooks/twilio/sms", headers={"Host": "evil.example"})
    assert evil.status_code == 403
    good = Twilio(client).post(form, sign_url="https://sms.example.com/webhooks/twilio/sms", headers={"Host": "evil.example"})
    assert good.status_code == 200


def test_links_carry_public_base_url_whatever_the_host(production: Flask) -> None:
    answer = production.test_client().post("/api/v1/links", json=LINK, headers={**AUTH, "Host": "evil.example"})
    assert answer.status_code == 201
    assert answer.json["url"].startswith("https://sms.example.com/u/")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_public_base_url_nothing_trusts_the_host(database_url: str, tmp_path: Path) -> None:
    """A server started some other way than gunicorn.conf.py: the webhook and minting answer 503."""
    app = _app(database_url, tmp_path, ENV="production", PUBLIC_BASE_URL=None)
    client = app.test_client()
    assert Twilio(client).sms("STOP").status_code == 503
    assert client.post("/api/v1/links", json=LINK, headers={**AUTH, "Host": "evil.example"}).status_code == 503
    app.extensions["gateway.database"].dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_trusted_hosts_let_the_host_decide_and_refuse_others(database_url: str, tmp_path: Path) -> None:
    app = _app(database_url, tmp_path, ENV="production", PUBLIC_BASE_URL=None, TRUSTED_HOSTS=["sms.example.com"])
    client = app.test_client()
    minted = client.post("/api/v1/links", json=LINK, headers={**AUTH, "Host": "sms.example.com"})
    assert minted.status_code == 201 and minted.json["url"].startswith("http://sms.example.com/u/")
    assert client.post("/api/v1/links", json=LINK, headers={**AUTH, "Host": "evil.example"}).status_code == 400
    app.extensions["gateway.database"].dispose()


@pytest.mark.parametrize(
    "settings, refused",
    [
        ({"ENV": "production", "PUBLIC_BASE_URL": None}, "PUBLIC_BASE_URL is not set"),
        ({"ENV": "production", "PUBLIC_BASE_URL": "sms.example.com"}, "absolute http(s) URL"),
        ({"ENV": "production", "PUBLIC_BASE_URL": "https://sms.example.com/?a=1"}, "absolute http(s) URL"),
        ({"ENV": "production", "PUBLIC_BASE_URL": "https://sms.example.com"}, None),
        ({"ENV": "production", "PUBLIC_BASE_URL": None, "TRUSTED_HOSTS": ["sms.example.com"]}, None),
        ({"ENV": "development", "PUBLIC_BASE_URL": None}, None),
    ],
    ids=["production-unset", "no-scheme", "query", "production-set", "trusted-hosts", "development"],
)
def test_a_server_about_to_serve_is_refused_without_a_public_url(settings: dict[str, object], refused: str | None) -> None:
    if refused is None:
        config.check(settings, serving=True)
        return
    with pytest.raises(ConfigError, match=refused.replace("(", r"\(").replace(")", r"\)")):
        config.check(settings, serving=True)
