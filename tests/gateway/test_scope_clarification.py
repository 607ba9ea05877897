"""Opt-out scope clarification through the signed webhook (issue 4, FCC 47 CFR 64.1200(a)(12)).

A STOP may ask which topics it covers; it covers all of them until an answer in time narrows it.
"""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from keywords import Rules
from storage import erasure, reports
from storage.ledger import verify_chain
from storage.models import ConsentEvent
from storage.questions import ScopeQuestion
from storage.types import utcnow
from tests.helpers import Api, Twilio

PERSON = "+14155550100"
SENDER = "+18005550111"  # not in keywords.yaml: the default brand, English
SERVICE = "MG00000000000000000000000000000000"  # in keywords.yaml: Acme Outlet RU, Russian
TOPICS = ("offers", "news", "events")


def said(answer: TestResponse) -> str | None:
    """The text of the TwiML <Message>, or None for an empty <Response/>."""
    assert answer.status_code == 200, answer.data
    message = ElementTree.fromstring(answer.data).find("Message")
    return None if message is None else message.text


def rules(app: Flask) -> Rules:
    return app.extensions["gateway.rules"].current  # type: ignore[no-any-return]


def stopped(client: FlaskClient, sender: str = SENDER) -> dict[str, bool]:
    """Per topic, whether the API says `sender` may not text PERSON about it."""
    api = Api(client)
    return {topic: api.suppression(PERSON, sender, topic).json["suppressed"] for topic in TOPICS}


def question_rows(app: Flask) -> list[tuple[str, str | None]]:
    with app.extensions["gateway.database"].begin() as session:
        return [(row.sender_scope, row.outcome) for row in session.scalars(select(ScopeQuestion))]


def actions(app: Flask) -> list[tuple[str, str, str]]:
    with app.extensions["gateway.database"].begin() as session:
        events = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))
        return [(event.action, event.sender_scope, event.topic) for event in events]


def chain_ok(app: Flask) -> bool:
    with app.extensions["gateway.database"].begin() as session:
        return verify_chain(session).ok


@pytest.fixture
def on(app: Flask) -> Flask:
    app.config["CLARIFY_SCOPE"] = True
    return app


@pytest.fixture
def sms(client: FlaskClient) -> Twilio:
    return Twilio(client)


def send(twilio: Twilio, body: str, **kwargs: str) -> str | None:
    return said(twilio.sms(body, from_=PERSON, to=kwargs.pop("to", SENDER), **kwargs))


ALL = {"offers": True, "news": True, "events": True}


def test_off_by_default_the_plain_confirmation(app: Flask, client: FlaskClient, sms: Twilio) -> None:
    assert app.config["CLARIFY_SCOPE"] is False
    assert send(sms, "STOP") == rules(app).reply("opt_out", None, SENDER)
    assert send(sms, "2") is None
    assert stopped(client) == ALL and question_rows(app) == []


def test_stop_asks_and_covers_everything(on: Flask, client: FlaskClient, sms: Twilio) -> None:
    asked = send(sms, "STOP")
    assert asked == rules(on).reply("opt_out_clarify", None, SENDER, topics="1 offers, 2 news, 3 events")
    assert asked.startswith("Acme Outlet: All our messages are stopped. If you do not reply, it stays that way.")
    assert stopped(client) == ALL and Api(client).suppression(PERSON, SENDER).json["suppressed"] is True
    assert question_rows(on) == [(SENDER, None)]
    assert actions(on) == [("opt_out", SENDER, "*")]


def test_answer_by_number_narrows_the_opt_out(on: Flask, client: FlaskClient, sms: Twilio) -> None:
    send(sms, "STOP")
    assert send(sms, "2") == "Acme Outlet: you will no longer get news messages. Reply STOP to stop all."
    assert stopped(client) == {"offers": False, "news": True, "events": False}
    assert actions(on) == [("opt_out", SENDER, "*"), ("opt_out", SENDER, "news"), ("narrow", SENDER, "*")]
    assert question_rows(on) == [(SENDER, "narrowed")]
    assert send(sms, "1") is None, "the question was answered: a second answer is chat"
    assert chain_ok(on)


@pytest.mark.parametrize(("answer", "named"), [
    pytest.param("news and events", "news, events", id="names"),
    pytest.param("Events, NEWS please", "news, events", id="names-any-order-and-case"),
    pytest.param("2,3", "news, events", id="numbers-with-comma"),
    pytest.param("2-3", "news, events", id="range"),
    pytest.param("solo 2 y 3", "news, events", id="spanish-joiners"),
    pytest.param("２ ３", "news, events", id="full-width-digits"),
])
def test_answer_by_name_or_numbers(on: Flask, client: FlaskClient, sms: Twilio, answer: str, named: str) -> None:
    send(sms, "STOP")
    assert send(sms, answer) == f"Acme Outlet: you will no longer get {named} messages. Reply STOP to stop all."
    assert stopped(client) == {"offers": False, "news": True, "events": True}


def test_a_late_answer_changes_nothing_and_gets_no_reply(on: Flask, client: FlaskClient, sms: Twilio) -> None:
    on.config["CLARIFY_HOURS"] = 0  # the window closes as it opens
    send(sms, "STOP")
    assert send(sms, "2") is None
    assert stopped(client) == ALL and actions(on) == [("opt_out", SENDER, "*")]


def test_naming_every_topic_keeps_everything_stopped(on: Flask, client: FlaskClient, sms: Twilio) -> None:
    send(sms, "STOP")
    assert send(sms, "1 2 3") == rules(on).reply("opt_out", None, SENDER)
    assert stopped(client) == ALL and actions(on) == [("opt_out", SENDER, "*")]
    assert question_rows(on) == [(SENDER, "kept_all")]
    assert send(sms, "2") is None


@pytest.mark.parametrize("chat", [
    pytest.param("thanks, see you", id="chat"),
    pytest.param("4", id="no-such-number"),
    pytest.param("0", id="zero"),
    pytest.param("sports", id="unknown-topic"),
    pytest.param("no", id="no"),
    pytest.param("stop 2", id="stop-and-a-number"),
    pytest.param("2 but not on sundays", id="number-in-a-sentence"),
    pytest.param("", id="empty"),
])
def test_anything_else_changes_nothing(on: Flask, client: FlaskClient, sms: Twilio, chat: str) -> None:
    send(sms, "STOP")
    assert send(sms, chat) is None
    assert stopped(client) == ALL and actions(on) == [("opt_out", SENDER, "*")]
    assert question_rows(on) == [(SENDER, None)]


def test_keywords_stay_keywords_while_a_question_is_open(on: Flask, client: FlaskClient, sms: Twilio) -> None:
    send(sms, "STOP")
    assert send(sms, "HELP") == rules(on).reply("help", None, SENDER)
    assert send(sms, "START") == rules(on).reply("opt_in", None, SENDER)
    assert stopped(client) == {"offers": False, "news": False, "events": False}
    # The opt-out the question was about is gone: a "2" now would stop news without being asked to.
    assert send(sms, "2") is None
    assert stopped(client) == {"offers": False, "news": False, "events": False}


def test_stop_after_narrowing_stops_all_and_asks_about_the_rest(on: Flask, client: FlaskClient, sms: Twilio) -> None:
    send(sms, "STOP")
    send(sms, "2")
    asked = send(sms, "STOP")
    assert asked == rules(on).reply("opt_out_clarify", None, SENDER, topics="1 offers, 2 events")
    assert stopped(client) == ALL
    assert send(sms, "2") == "Acme Outlet: you will no longer get events messages. Reply STOP to stop all."
    assert stopped(client) == {"offers": False, "news": True, "events": True}
    assert chain_ok(on)


def test_a_second_stop_closes_the_question(on: Flask, client: FlaskClient, sms: Twilio) -> None:
    send(sms, "STOP")
    assert send(sms, "UNSUBSCRIBE") == rules(on).reply("opt_out", None, SENDER)
    assert question_rows(on) == [(SENDER, "opt_out")]
    assert send(sms, "2") is None and stopped(client) == ALL


def test_stopall_never_asks_and_closes_an_open_question(on: Flask, client: FlaskClient, sms: Twilio) -> None:
    on.config["REPEAT_REPLY_INTERVAL"] = 0  # the same STOPALL confirmation twice in a row
    send(sms, "STOP")
    assert send(sms, "STOPALL") == rules(on).reply("opt_out_all", None, SENDER)
    assert question_rows(on) == [(SENDER, "stopall")]
    assert send(sms, "2") is None and stopped(client) == ALL
    other = "+18005550122"
    assert send(sms, "STOPALL", to=other) == rules(on).reply("opt_out_all", None, other)
    assert len(question_rows(on)) == 1


def test_no_question_with_fewer_than_two_topics_left(on: Flask, client: FlaskClient, sms: Twilio) -> None:
    staff = client.post("/api/v1/suppressions", headers={"Authorization": f"Bearer {Api(client).token}"},
                        json={"number": PERSON, "sender": SENDER, "topic": "news", "reason": "asked by phone"})
    assert staff.status_code in (200, 201), staff.data
    assert send(sms, "STOP") == rules(on).reply("opt_out_clarify", None, SENDER, topics="1 offers, 2 events")
    on.config["TOPICS"] = {"default": ["offers", "news", "events"], "+18005550133": ["offers"]}
    assert send(sms, "STOP", to="+18005550133") == rules(on).reply("opt_out", None, "+18005550133")


def test_a_number_that_is_not_a_phone_is_never_asked(on: Flask, sms: Twilio) -> None:
    assert said(sms.sms("STOP", from_="VERIFY", to=SENDER)) is None
    assert question_rows(on) == []


def test_a_messaging_service_narrows_every_scope_it_stopped(on: Flask, client: FlaskClient, sms: Twilio) -> None:
    asked = send(sms, "STOP", messaging_service_sid=SERVICE)
    assert asked == rules(on).reply("opt_out_clarify", None, SERVICE, topics="1 offers, 2 news, 3 events")
    assert asked.startswith("Acme Outlet RU: ")
    assert stopped(client, SERVICE) == ALL and stopped(client, SENDER) == ALL
    narrowed_reply = rules(on).reply("opt_out_narrowed", None, SERVICE, topics="offers")
    assert send(sms, "1", messaging_service_sid=SERVICE) == narrowed_reply
    narrowed = {"offers": True, "news": False, "events": False}
    assert stopped(client, SERVICE) == narrowed and stopped(client, SENDER) == narrowed


def test_a_retried_delivery_changes_nothing_twice(on: Flask, client: FlaskClient, sms: Twilio) -> None:
    send(sms, "STOP")
    first = send(sms, "2", message_sid="SM" + "2" * 32)
    events = len(actions(on))
    assert send(sms, "2", message_sid="SM" + "2" * 32) == first
    assert len(actions(on)) == events and stopped(client) == {"offers": False, "news": True, "events": False}


def test_reply_limits_still_apply(on: Flask, client: FlaskClient, sms: Twilio) -> None:
    on.config["REPLY_LIMIT"] = 2
    send(sms, "HELP")
    send(sms, "STOP")
    assert send(sms, "2") is None, "the third reply in the window is withheld"
    # A withheld reply never holds back the consent change.
    assert stopped(client) == {"offers": False, "news": True, "events": False}


def test_a_rate_limited_stop_is_still_asked_once(
    on: Flask, client: FlaskClient, sms: Twilio,
) -> None:
    on.config["REPLY_LIMIT"] = 1
    send(sms, "HELP")
    # Issue 14: the rate limit never withholds an opt-out's confirmation, and the question is one.
    asked = send(sms, "STOP")
    assert asked is not None and question_rows(on) == [(SENDER, None)]
    # A second STOP answers the open question (everything stays stopped) and asks no second one.
    assert send(sms, "STOP") == rules(on).reply("opt_out", None, SENDER)
    assert stopped(client) == ALL and question_rows(on) == [(SENDER, "opt_out")]


def test_narrow_is_not_a_resubscribe_on_the_dashboard(on: Flask, sms: Twilio) -> None:
    send(sms, "STOP")
    send(sms, "2")
    with on.extensions["gateway.database"].begin() as session:
        [day] = reports.daily(session, utcnow().replace(hour=0, minute=0, second=0, microsecond=0))
        assert day.counts["opt_in"] == 0 and day.counts["opt_out"] == 1
        assert all(counts["opt_in"] == 0 for _, counts in reports.by_language(session, utcnow().replace(year=2000)))


def test_the_ledger_verifies_and_erasure_forgets_the_question(on: Flask, runner: FlaskCliRunner, sms: Twilio) -> None:
    send(sms, "STOP")
    send(sms, "3")
    send(sms, "STOP")
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    with on.extensions["gateway.database"].begin() as session:
        erasure.erase(session, PERSON, actor="test", reason="asked")
    with on.extensions["gateway.database"].begin() as session:
        assert session.scalar(select(func.count()).select_from(ScopeQuestion)) == 0
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
