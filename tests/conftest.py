"""Shared fixtures: a migrated database per backend, the app, its client and CLI runner."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text

from gateway import create_app
from storage import Base, Database, crypto
from storage.migrate import recreate, upgrade

ROOT = Path(__file__).resolve().parent.parent
# The suite runs as a developer's machine does (`make run` sets the same): without PUBLIC_BASE_URL the
# test client's Host may stand for the public URL. tests/security/ runs the production settings.
os.environ.setdefault("GATEWAY_ENV", "development")
KEYWORDS_FILE = ROOT / "keywords.yaml"
TWILIO_TOKEN = "test-twilio-auth-token"
API_TOKEN = "test-api-token-0123456789"
BACKENDS = ["sqlite", "postgresql"]
# Fixed test keys for the encrypted columns and keyed hashes (storage/crypto.py), also for tests without an app.
LEDGER_KEY = "n2Q1VJYhN9sYQnQ6o1TqjH4n0Vt8wB6mPqC0y7hXk3A="
NUMBER_HASH_KEY = "test-number-hash-key-0123456789"
crypto.install(crypto.Keyring.from_strings(LEDGER_KEY, NUMBER_HASH_KEY))


def postgres_url() -> str | None:
    """TEST_DATABASE_URL, required in CI so the PostgreSQL tests never skip silently there."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url and os.environ.get("CI"):
        pytest.fail("CI is set but TEST_DATABASE_URL is not: the PostgreSQL tests must run in CI")
    return url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_migrated() -> str:
    url = postgres_url()
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    recreate(url)
    return url


def _truncate(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "gateway.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("_postgres_migrated")
    _truncate(url)
    yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "API_TOKENS": (API_TOKEN,),
            "LEDGER_KEYS": LEDGER_KEY,
            "NUMBER_HASH_KEY": NUMBER_HASH_KEY,
            "KEYWORDS_FILE": str(KEYWORDS_FILE),
            "PUBLIC_BASE_URL": None,
            # Each test its own spool, never the developer's instance/spool.db.
            "SPOOL_PATH": str(tmp_path / "spool.db"),
        }
    )
    yield app
    app.extensions["gateway.database"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()
