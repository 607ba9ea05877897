"""Reply-loop and abuse protection: per-number limits on auto-replies, shared through the database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from gateway import create_app
from storage import ConsentEvent, Database
from storage.limits import AutoReply, ReplyPolicy, take_reply
from tests.conftest import API_TOKEN, KEYWORDS_FILE, LEDGER_KEY, NUMBER_HASH_KEY, TWILIO_TOKEN
from tests.helpers import Api, Twilio

NUMBER = "+14155550142"
SENDER = "+18005550199"
T0 = datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc)
POLICY = ReplyPolicy(max_replies=3, window=timedelta(minutes=10), repeat_interval=timedelta(minutes=1))


def replied(response: object) -> bool:
    return b"<Message>" in response.data  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("sends", "expected"),
    [
        pytest.param([("a", 0)], [None], id="first-reply-allowed"),
        pytest.param([("a", 0), ("a", 30)], [None, "repeat"], id="same-text-within-interval-withheld"),
        pytest.param([("a", 0), ("a", 61)], [None, None], id="same-text-after-interval-allowed"),
        pytest.param([("a", 0), ("b", 1), ("c", 2), ("d", 3)], [None, None, None, "rate"], id="fourth-in-window-withheld"),
        pytest.param([("a", 0), ("b", 1), ("c", 2), ("d", 601)], [None, None, None, None], id="window-passes"),
        pytest.param(
            [("a", 0), ("b", 1), ("b", 2), ("c", 3)], [None, None, "repeat", None], id="withheld-reply-not-counted"
        ),
    ],
)
def test_limits_over_time(database: Database, sends: list[tuple[str, int]], expected: list[str | None]) -> None:
    results = []
    for text, seconds in sends:
        with database.begin() as session:
            results.append(take_reply(session, NUMBER, text, POLICY, now=T0 + timedelta(seconds=seconds)))
    assert results == expected


def test_old_rows_are_dropped(database: Database) -> None:
    with database.begin() as session:
        take_reply(session, NUMBER, "a", POLICY, now=T0)
        take_reply(session, NUMBER, "b", POLICY, now=T0 + timedelta(hours=2))
    with database.begin() as session:
        assert session.scalar(select(func.count()).select_from(AutoReply)) == 1


def small_limits(app: Flask) -> None:
    app.config.update(REPLY_LIMIT=3, REPLY_WINDOW=600, REPEAT_REPLY_INTERVAL=0)


def test_auto_responder_loop_is_cut_off(app: Flask, client: object) -> None:
    small_limits(app)
    twilio = Twilio(app.test_client())
    # An auto-responder that answers every confirmation with "HELP"-like text, ten times over.
    answers = [replied(twilio.sms("HELP", from_=NUMBER, to=SENDER)) for _ in range(10)]
    assert answers == [True, True, True] + [False] * 7


def test_same_confirmation_is_not_sent_twice_but_both_stops_count(app: Flask) -> None:
    app.config.update(REPLY_LIMIT=0, REPEAT_REPLY_INTERVAL=3600)
    twilio = Twilio(app.test_client())
    assert replied(twilio.sms("STOP", from_=NUMBER, to=SENDER))
    assert not replied(twilio.sms("STOP", from_=NUMBER, to=SENDER))
    assert replied(twilio.sms("START", from_=NUMBER, to=SENDER))
    with app.extensions["gateway.database"].begin() as session:
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 3


def test_a_chatty_number_still_gets_its_first_stop_confirmation(app: Flask) -> None:
    """Issue 14: the rate limit never withholds an opt-out's confirmation (CTIA: every opt-out acknowledged)."""
    small_limits(app)
    twilio = Twilio(app.test_client())
    answers = [replied(twilio.sms("HELP", from_=NUMBER, to=SENDER)) for _ in range(4)]
    assert answers == [True, True, True, False]  # the hourly replies are used up
    stop = twilio.sms("STOP", from_=NUMBER, to=SENDER)
    assert stop.status_code == 200 and replied(stop)
    assert Api(app.test_client()).suppression(NUMBER, SENDER).get_json()["suppressed"] is True


def test_a_repeated_stop_within_the_repeat_interval_may_stay_silent(app: Flask) -> None:
    app.config.update(REPLY_LIMIT=1, REPLY_WINDOW=600, REPEAT_REPLY_INTERVAL=600)
    twilio = Twilio(app.test_client())
    assert replied(twilio.sms("HELP", from_=NUMBER, to=SENDER))
    assert [replied(twilio.sms("STOP", from_=NUMBER, to=SENDER)) for _ in range(2)] == [True, False]


@pytest.mark.parametrize("opt_out", [False, True])
def test_the_rate_limit_spares_opt_out_confirmations_on_the_general_path(database: Database, opt_out: bool) -> None:
    with database.begin() as session:
        for text in ("a", "b", "c"):
            take_reply(session, NUMBER, text, POLICY, now=T0)
        assert take_reply(session, NUMBER, "stopped", POLICY, now=T0, opt_out=opt_out) == (None if opt_out else "rate")


def test_limits_are_shared_between_machines(app: Flask, database_url: str, tmp_path: Path) -> None:
    # A second app on the same database is a second machine behind the load balancer.
    other = create_app(
        {
            "TESTING": True, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "API_TOKENS": (API_TOKEN,),
            "KEYWORDS_FILE": str(KEYWORDS_FILE), "PUBLIC_BASE_URL": None, "SPOOL_PATH": str(tmp_path / "other.db"),
            "LEDGER_KEYS": LEDGER_KEY, "NUMBER_HASH_KEY": NUMBER_HASH_KEY,
        }
    )
    try:
        for each in (app, other):
            small_limits(each)
        machines = [Twilio(app.test_client()), Twilio(other.test_client())]
        answers = [replied(machines[i % 2].sms("HELP", from_=NUMBER, to=SENDER)) for i in range(6)]
        assert answers == [True, True, True, False, False, False]
    finally:
        other.extensions["gateway.database"].dispose()
