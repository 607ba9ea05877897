"""Dashboard sessions live on the server, and failed sign-ins are throttled in the database (issue 11 item 8)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.test import TestResponse

from gateway import create_app
from tests.conftest import API_TOKEN, KEYWORDS_FILE, LEDGER_KEY, NUMBER_HASH_KEY, TWILIO_TOKEN
from tests.pages.conftest import SECRET, STAFF_TOKEN, csrf_of

LIMITS = {"DASHBOARD_LOGIN_FAILURES_PER_ADDRESS": 3, "DASHBOARD_LOGIN_FAILURES_GLOBAL": 5}
ATTACKER = "203.0.113.7"


def sign_in(client: FlaskClient, token: str = STAFF_TOKEN, address: str = "127.0.0.1") -> TestResponse:
    where = {"REMOTE_ADDR": address}
    page = client.get("/dashboard/login", environ_base=where)
    return client.post("/dashboard/login", data={"csrf": csrf_of(page), "token": token}, environ_base=where)


def log_out(client: FlaskClient) -> TestResponse:
    return client.post("/dashboard/logout", data={"csrf": csrf_of(client.get("/dashboard/"))})


@pytest.fixture
def second(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Another worker (or machine) of the same deployment: its own app, the same database."""
    other = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "API_TOKENS": (API_TOKEN,),
        "LEDGER_KEYS": LEDGER_KEY, "NUMBER_HASH_KEY": NUMBER_HASH_KEY, "KEYWORDS_FILE": str(KEYWORDS_FILE),
        "PUBLIC_BASE_URL": None, "SPOOL_PATH": str(tmp_path / "second-spool.db"),
        "SECRET_KEY": SECRET, "STAFF_TOKENS": (STAFF_TOKEN,), **LIMITS,
    })
    app.config.update(LIMITS)
    yield other
    other.extensions["gateway.database"].dispose()


def test_a_copied_cookie_stops_working_after_logout(app: Flask, client: FlaskClient) -> None:
    assert sign_in(client).status_code == 303
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(cookie.key, cookie.value)
    assert thief.get("/dashboard/").status_code == 200, "the copy works while the session is open"
    assert log_out(client).status_code == 303
    assert client.get("/dashboard/").status_code == 302
    assert thief.get("/dashboard/").status_code == 302, "logout ends the session on the server"


def test_the_cookie_holds_no_token_hash_and_an_expired_session_ends(app: Flask, client: FlaskClient,
                                                                   database_url: str) -> None:
    assert sign_in(client).status_code == 303
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    contents = app.session_interface.get_signing_serializer(app).loads(cookie.value)  # type: ignore[attr-defined]
    assert hashlib.sha256(STAFF_TOKEN.encode()).hexdigest() not in str(contents)
    assert client.get("/dashboard/").status_code == 200
    engine = create_engine(database_url)
    with engine.begin() as connection:
        stored = connection.execute(text("SELECT session_hash FROM dashboard_sessions")).scalars().all()
        assert len(stored) == 1 and stored[0] not in str(contents), "only a hash of the session id is kept"
        connection.execute(text("UPDATE dashboard_sessions SET expires_at = created_at"))
    engine.dispose()
    assert client.get("/dashboard/").status_code == 302, "a session past its lifetime ends on the server"


def test_failed_sign_ins_per_address_are_counted_by_every_worker(app: Flask, second: Flask, database_url: str) -> None:
    one, two = app.test_client(), second.test_client()
    for client in (one, two, one):
        assert sign_in(client, "wrong-token-guess", ATTACKER).status_code == 401
    for client in (one, two):
        refused = sign_in(client, STAFF_TOKEN, ATTACKER)
        assert refused.status_code == 429, "even the right token waits while the address is throttled"
        assert 0 < int(refused.headers["Retry-After"]) <= 900
    assert sign_in(two, STAFF_TOKEN, "203.0.113.8").status_code == 303, "another address is not throttled"
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM dashboard_login_failures")).all()
    engine.dispose()
    assert len(rows) == 3 and ATTACKER not in str(rows), "addresses are kept only as keyed hashes"


def test_failed_sign_ins_from_everywhere_hit_the_global_limit(app: Flask, second: Flask) -> None:
    workers = (app.test_client(), second.test_client())
    for index in range(5):
        assert sign_in(workers[index % 2], "wrong-token-guess", f"198.51.100.{index}").status_code == 401
    for client in workers:
        assert sign_in(client, STAFF_TOKEN, "192.0.2.200").status_code == 429
    assert second.test_client().get("/dashboard/login").status_code == 200, "the form itself still opens"


ODD_FORMS: list[tuple[str, dict[str, str], bytes]] = [
    ("nul", {}, b"token=a%00b"),
    ("surrogate", {}, b"token=%ED%A0%80"),
    ("not-utf8", {}, b"token=%FF%FE"),
    ("huge", {}, b"token=" + b"x" * 10_000),
    ("repeated", {}, b"token=a&token=b"),
    ("no-token", {}, b"next=%2F%2Fevil.example"),
    ("odd-next", {}, b"token=x&next=/%0d%0aSet-Cookie:x"),
    ("json", {"Content-Type": "application/json"}, b'{"token": ["x"]}'),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # input handling: no backend changes it
@pytest.mark.parametrize(("headers", "body"), [f[1:] for f in ODD_FORMS], ids=[f[0] for f in ODD_FORMS])
def test_odd_sign_in_forms_get_a_4xx(client: FlaskClient, headers: dict[str, str], body: bytes) -> None:
    page = client.get("/dashboard/login")
    form = b"csrf=" + csrf_of(page).encode() + b"&" + body if not headers else body
    answer = client.post("/dashboard/login", data=form,
                         headers=headers or {"Content-Type": "application/x-www-form-urlencoded"})
    assert 400 <= answer.status_code < 500, answer.status_code
