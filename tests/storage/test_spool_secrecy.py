"""The spool keeps no plaintext: payloads encrypted, rows deleted once replayed, files private, erasure wins.

A spooled message holds a person's number and words, on the disk of a machine that may be lost
or copied: it is encrypted with the ledger keys, found per number only through its keyed hash,
and gone once the database has it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.addresses import Address
from gateway.messages import InboundMessage
from gateway.inbound.spool import InboundSpool, to_payload
from keywords.rules import load_rules
from storage import Database, crypto
from storage.consent import ConsentChange, apply_change, suppression_status
from storage.erasure import erase
from storage.migrate import upgrade
from storage.local_spool import Spool
from tests.conftest import KEYWORDS_FILE

PERSON = "+14155550166"
SENDER = "+15125550188"
WORDS = "mango-4410"
UNREACHABLE = "postgresql+psycopg://gateway@127.0.0.1:1/nowhere"
"""A database nobody listens for: every connect is refused at once, so messages stay in the spool."""
RULES = load_rules(KEYWORDS_FILE)


def kept(spool: Spool, body: str, sid: str, number: str = PERSON) -> None:
    """Spool one message from `number` as the webhook does while its database is down."""
    down = Database(UNREACHABLE)
    keeper = InboundSpool(spool, down)
    message = InboundMessage("twilio", sid, Address(number, "e164"), Address(SENDER, "e164"), body, (SENDER,))
    decision = RULES.classify(body)
    keeper.keep(message, decision, RULES.version, RULES.reply_for(decision, SENDER))
    keeper.close()
    down.dispose()


def sid(n: int) -> str:
    return "SM" + f"{n:032x}"


def checkpointed_bytes(path: Path) -> bytes:
    """The file's bytes and those of its WAL and SHM after a truncating checkpoint."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return b"".join(Path(f"{path}{suffix}").read_bytes() for suffix in ("", "-wal", "-shm")
                    if Path(f"{path}{suffix}").exists())


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    opened = Spool(tmp_path / "spool.db")
    yield opened
    opened.close()


def test_a_spooled_message_is_encrypted_and_keyed_by_the_numbers_hash(spool: Spool) -> None:
    kept(spool, f"STOP {WORDS}", sid(1))
    assert spool.depth() == 1
    raw = checkpointed_bytes(spool.path)
    for needle in ("4155550166", "5550166", WORDS, "STOP"):
        assert needle.encode() not in raw, needle
    connection = sqlite3.connect(spool.path)
    payload, subject = connection.execute("SELECT payload, subject FROM spooled_messages").fetchone()
    connection.close()
    assert crypto.is_ciphertext(payload) and WORDS in crypto.current().decrypt(payload)
    assert subject == crypto.current().digest(PERSON)
    [entry] = spool.pending()
    assert entry.payload["body"] == f"STOP {WORDS}" and entry.payload["from"][0] == PERSON


OLD_SCHEMA = """CREATE TABLE spooled_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, provider TEXT NOT NULL,
    message_id TEXT NOT NULL, payload TEXT NOT NULL, spooled_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT, done_at TEXT)"""


def test_a_spool_file_of_an_earlier_release_is_encrypted_and_purged_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    old = sqlite3.connect(path)
    old.execute(OLD_SCHEMA)
    for n, done in ((5, "2026-01-01T00:00:00+00:00"), (6, None)):
        message = InboundMessage("twilio", sid(n), Address(PERSON, "e164"), Address(SENDER, "e164"), f"STOP {WORDS}", (SENDER,))
        payload = json.dumps(to_payload(message, RULES.classify("STOP"), RULES.version, None))
        old.execute("INSERT INTO spooled_messages (provider, message_id, payload, spooled_at, done_at) VALUES (?, ?, ?, ?, ?)",
                    ("twilio", sid(n), payload, "2026-01-01T00:00:00+00:00", done))
    old.commit()
    old.close()
    spool = Spool(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry.message_id for entry in spool.pending()] == [sid(6)]  # the replayed one is gone
    assert spool.pending()[0].payload["body"] == f"STOP {WORDS}"
    assert spool.forget(PERSON) == 1  # found by the keyed hash added on the way
    spool.close()
    raw = checkpointed_bytes(path)
    assert WORDS.encode() not in raw and b"4155550166" not in raw


def test_replayed_rows_are_deleted_and_a_repeat_is_applied_once(spool: Spool, database: Database) -> None:
    kept(spool, "STOP", sid(2))
    kept(spool, "STOP", sid(2))  # the provider's retry, spooled too
    result = InboundSpool(spool, database).replay()
    assert (result.applied, result.duplicates, result.pending) == (1, 1, 0)
    connection = sqlite3.connect(spool.path)
    assert connection.execute("SELECT count(*) FROM spooled_messages").fetchone()[0] == 0
    connection.close()
    with database.begin() as session:
        assert session.scalar(text("SELECT count(*) FROM inbound_messages")) == 1
        assert session.scalar(text("SELECT count(*) FROM consent_events")) == 1
        assert suppression_status(session, PERSON, SENDER).suppressed


def test_every_sqlite_file_is_created_private(tmp_path: Path) -> None:
    before = os.umask(0o022)  # what most shells and service managers give a process
    try:
        url = f"sqlite:///{tmp_path / 'gateway.db'}"
        upgrade(url)
        database = Database(url)
        with database.begin() as session:
            apply_change(session, ConsentChange(number=PERSON, scopes=(SENDER,), action="opt_out", source="staff"))
        spool = Spool(tmp_path / "spool.db")
        kept(spool, "STOP", sid(3))
        paths = [tmp_path / name for name in ("gateway.db", "gateway.db-wal", "gateway.db-shm",
                                              "spool.db", "spool.db-wal", "spool.db-shm")]
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in paths}  # all exist: WAL mode, written
        assert modes == {path.name: 0o600 for path in paths}
        spool.close()
        database.dispose()
    finally:
        os.umask(before)


def test_a_message_spooled_before_an_erasure_elsewhere_is_not_replayed_after_it(tmp_path: Path, database: Database) -> None:
    # Another machine's spool holds a START from before the erasure; its replay must not lift the block.
    with database.begin() as session:
        apply_change(session, ConsentChange(number=PERSON, scopes=(SENDER,), action="opt_out", source="staff"))
    elsewhere = Spool(tmp_path / "elsewhere.db")
    kept(elsewhere, f"START {WORDS}", sid(4))
    with database.begin() as session:
        erase(session, PERSON, actor="dpo", reason="request 9")
    result = InboundSpool(elsewhere, database).replay()
    assert result.pending == 0 and result.applied == 0
    with database.begin() as session:
        assert suppression_status(session, PERSON, SENDER).suppressed
        assert session.scalar(text("SELECT count(*) FROM inbound_messages")) == 0
    elsewhere.close()
