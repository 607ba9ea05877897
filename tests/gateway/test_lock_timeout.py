"""A database lock held for long (a million-row import holds the ledger for half a minute) spools STOPs.

The webhook must answer well within the provider's 15-second timeout: after GATEWAY_DB_LOCK_TIMEOUT
seconds of waiting, the message goes to the local spool with its confirmation, and is applied once
when the lock is released.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from gateway import create_app
from storage import Database, crypto, ledger
from tests.conftest import API_TOKEN, KEYWORDS_FILE, LEDGER_KEY, NUMBER_HASH_KEY, TWILIO_TOKEN
from tests.helpers import Api, Twilio

PERSON = "+14155550100"
SENDER = "+18005550199"


HOLD_AT_MOST = 30.0
"""Seconds the holder keeps the lock if the test never releases it (a webhook that waited it out)."""


@contextmanager
def ledger_held(database_url: str) -> Iterator[threading.Event]:
    """Another transaction, in another thread, holds the ledger head as a bulk import does.

    Set the yielded event to release it; the holder gives up by itself after HOLD_AT_MOST seconds,
    so a webhook that waits for locks without bound makes this test fail instead of hang.
    """
    held, release = threading.Event(), threading.Event()
    holder = Database(database_url)

    def hold() -> None:
        with holder.begin() as session:
            ledger.lock_head(session)
            held.set()
            release.wait(HOLD_AT_MOST)
            release.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10), "the holder did not get the lock"
        yield release
    finally:
        release.set()
        thread.join()
        holder.dispose()


def wait_until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_a_stop_behind_a_long_lock_is_answered_spooled_and_applied_once(database_url: str, tmp_path: Path) -> None:
    app: Flask = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "API_TOKENS": (API_TOKEN,),
        "LEDGER_KEYS": LEDGER_KEY, "NUMBER_HASH_KEY": NUMBER_HASH_KEY, "KEYWORDS_FILE": str(KEYWORDS_FILE),
        "PUBLIC_BASE_URL": None, "SPOOL_PATH": str(tmp_path / "spool.db"), "DB_LOCK_TIMEOUT": 0.5,
    })
    client = app.test_client()
    spool = app.extensions["gateway.spool"]
    try:
        with ledger_held(database_url) as released:
            answer = Twilio(client).sms("STOP", from_=PERSON, to=SENDER)
            assert not released.is_set(), "the webhook waited until the lock holder gave up"
            assert answer.status_code == 200 and "<Message>" in answer.data.decode()
            assert spool.spool.depth() == 1
        assert wait_until(lambda: spool.spool.depth() == 0, 30), "the spooled STOP was not replayed"
        status = Api(client).suppression(PERSON, SENDER).json
        assert status["suppressed"] is True and len(status["suppressions"]) == 1
        with app.extensions["gateway.database"].begin() as session:
            assert ledger.verify_chain(session).ok
    finally:
        spool.close()
        app.extensions["gateway.database"].dispose()
        crypto.install(crypto.Keyring.from_strings(LEDGER_KEY, NUMBER_HASH_KEY))
