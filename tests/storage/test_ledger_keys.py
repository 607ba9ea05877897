"""Key rotation: a new first key, `flask ledger reencrypt`, then the old key can go; plain legacy values get encrypted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from gateway import create_app

from gateway.ops import keys as ledger_keys
from storage import crypto
from tests.conftest import LEDGER_KEY, NUMBER_HASH_KEY
from tests.helpers import Api, Twilio

NEW_KEY = crypto.generate_fernet_key()


@pytest.fixture
def restore_keys() -> Iterator[None]:
    before = crypto.current()
    yield
    crypto.install(before)


def raw_values(app: Flask) -> list[str]:
    with app.extensions["gateway.database"].begin() as session:
        bodies = session.scalars(text("SELECT body FROM inbound_messages")).all()
        explanations = session.scalars(text("SELECT explanation FROM consent_events")).all()
    return [*bodies, *explanations]


def app_with(database_url: str, keys: str, tmp_path: Path) -> Flask:
    return create_app({"TESTING": True, "DATABASE_URL": database_url, "LEDGER_KEYS": keys, "NUMBER_HASH_KEY": NUMBER_HASH_KEY,
                       "API_TOKENS": ("ledger-keys-test-token",), "TWILIO_AUTH_TOKEN": "x", "SPOOL_PATH": str(tmp_path / "spool.db")})


def test_rotate_then_drop_the_old_key(app: Flask, client: FlaskClient, database_url: str, tmp_path: Path, restore_keys: None) -> None:
    Twilio(client).sms("STOP now please", from_="+14155550100")
    with app.extensions["gateway.database"].begin() as session:
        # A row written before encryption existed: plain text, still readable, encrypted by the rotation.
        session.execute(text("UPDATE inbound_messages SET body = 'STOP now please'"))
    rotated = app_with(database_url, f"{NEW_KEY},{LEDGER_KEY}", tmp_path)
    result = rotated.test_cli_runner().invoke(args=["ledger", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "inbound_messages.body: 1" in result.output
    values = raw_values(rotated)
    new_only = crypto.Keyring.from_strings(NEW_KEY, NUMBER_HASH_KEY)
    assert all(crypto.is_ciphertext(v) or v == crypto.EMPTY_JSON for v in values)
    assert "STOP now please" in [new_only.decrypt(v) for v in values if crypto.is_ciphertext(v)]

    after = app_with(database_url, NEW_KEY, tmp_path)  # the old key is gone
    runner = after.test_cli_runner()
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    history = runner.invoke(args=["ledger", "history", "+14155550100"])
    assert "'STOP now please'" in history.output
    assert Api(after.test_client(), "ledger-keys-test-token").suppression("+14155550100").json["suppressed"] is True


def test_a_value_under_an_unknown_key_is_a_clear_error(app: Flask, client: FlaskClient, database_url: str, tmp_path: Path, restore_keys: None) -> None:
    Twilio(client).sms("STOP", from_="+14155550100")
    stranger = app_with(database_url, crypto.generate_fernet_key(), tmp_path)
    result = stranger.test_cli_runner().invoke(args=["ledger", "history", "+14155550100"])
    assert result.exit_code != 0
    assert isinstance(result.exception, crypto.KeysMissing)


def test_a_shared_database_needs_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LEDGER_KEYS", raising=False)
    monkeypatch.delenv("NUMBER_HASH_KEY", raising=False)
    with pytest.raises(ledger_keys.SharedDatabaseWithoutKeys, match="LEDGER_KEYS and NUMBER_HASH_KEY must be set"):
        create_app({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none", "SPOOL_PATH": str(tmp_path / "s.db")})
    assert not (tmp_path / "ledger_keys").exists()


def test_sqlite_gets_development_keys_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, restore_keys: None) -> None:
    monkeypatch.delenv("LEDGER_KEYS", raising=False)
    monkeypatch.delenv("NUMBER_HASH_KEY", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    config = {"DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}", "SPOOL_PATH": str(tmp_path / "s.db")}
    first = create_app(config).config["LEDGER_KEYS"]
    assert (tmp_path / "ledger_keys").stat().st_mode & 0o777 == 0o600
    assert create_app(config).config["LEDGER_KEYS"] == first
