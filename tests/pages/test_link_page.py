"""GET /u/<token> shows choices and changes nothing; CSRF-checked POSTs change consent through the ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from storage import Database, consent, ledger
from storage.links import LinkChoice
from storage.types import utcnow
from tests.helpers import Api
from tests.pages.conftest import NUMBER, SENDER, counts, csrf_of, token_of


def _status(database: Database, topic: str | None = None) -> consent.SuppressionStatus:
    with database.begin() as session:
        return consent.suppression_status(session, NUMBER, SENDER, topic)


def _post(client: FlaskClient, token: str, action: str, **form: object) -> object:
    page = client.get(f"/u/{token}")
    return client.post(f"/u/{token}/{action}", data={"csrf": csrf_of(page), **form})


def test_repeated_gets_of_the_link_change_nothing(client: FlaskClient, database: Database) -> None:
    token = token_of(client)
    before = counts(database)
    for path in (f"/u/{token}", f"/u/{token}", f"/u/{token}/done?did=unsubscribed", f"/u/{token}?lang=ru",
                 f"/u/{token}/unsubscribe", f"/u/{token}/resubscribe"):
        response = client.get(path)
        assert response.status_code in (200, 405), path
    assert counts(database) == before
    assert not _status(database).suppressed


def test_the_page_names_the_brand_and_is_never_cached(client: FlaskClient) -> None:
    response = client.get(f"/u/{token_of(client)}", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "Acme Outlet Latino" in response.text and "0100" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in response.headers, "the recipient's page keeps no session"


@pytest.mark.parametrize(
    ("accept", "query", "expected", "phrase"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.5", "", "ru", "Отписаться от"),
        ("es-MX,es;q=0.9", "", "es", "Darme de baja de"),
        ("en-GB,en;q=0.8", "", "en", "Unsubscribe from"),
        ("de-DE", "", "es", "Darme de baja de"),
        ("ru", "?lang=en", "en", "Unsubscribe from"),
        ("en", "?lang=xx", "en", "Unsubscribe from"),
    ],
    ids=["russian-browser", "spanish-browser", "english-browser", "unknown-falls-back-to-sender", "switch-wins", "bad-switch"],
)
def test_language_from_accept_language_with_a_switch(
    client: FlaskClient, accept: str, query: str, expected: str, phrase: str
) -> None:
    response = client.get(f"/u/{token_of(client)}{query}", headers={"Accept-Language": accept})
    assert f'<html lang="{expected}">' in response.text
    assert phrase in response.text
    assert "lang=ru" in response.text and "lang=es" in response.text


def test_query_keys_cannot_steer_the_language_links(client: FlaskClient) -> None:
    token = token_of(client)
    for query in ("?token=elsewhere", "?_external=1&_anchor=x&_scheme=javascript", "?did=unsubscribed&lang=es"):
        response = client.get(f"/u/{token}{query}")
        assert response.status_code == 200, query
        assert "elsewhere" not in response.text and "javascript" not in response.text
        assert "http://localhost" not in response.text and "#x" not in response.text
        assert f"/u/{token}?" in response.text and "lang=ru" in response.text


@pytest.mark.parametrize(
    ("path", "status", "phrase"),
    [
        ("/u/short", 400, "Part of this link seems to be missing"),
        ("/u/" + "x" * 40, 400, "Part of this link seems to be missing"),
        ("/u/AAAAAAAAAAAA", 404, "This link has expired"),
        ("/u/__________", 400, "Part of this link"),
        ("/u/_____________", 400, "Part of this link"),
        ("/u/%00%01", 400, "Part of this link"),
    ],
    ids=["short", "long", "expired-day", "ten-chars", "thirteen-chars", "control-chars"],
)
def test_bad_tokens_get_a_clear_page(client: FlaskClient, path: str, status: int, phrase: str) -> None:
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == status
    assert phrase in response.text and "Traceback" not in response.text
    assert response.mimetype == "text/html"


def test_a_tampered_or_revoked_token_gets_404_and_posting_to_it_changes_nothing(client: FlaskClient, database: Database) -> None:
    token = token_of(client)
    csrf = csrf_of(client.get(f"/u/{token}"))
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = client.get(f"/u/{tampered}", headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "We do not know this link" in response.text
    assert client.post(f"/u/{tampered}/unsubscribe", data={"csrf": csrf}).status_code == 404
    client.delete(f"/api/v1/links/{NUMBER}", headers={"Authorization": "Bearer test-api-token-0123456789"})
    response = client.post(f"/u/{token}/unsubscribe", data={"csrf": csrf}, headers={"Accept-Language": "ru"})
    assert response.status_code == 404 and "Эта ссылка отключена" in response.text
    assert not _status(database).suppressed


@pytest.mark.parametrize("csrf", [None, "", "forged", "from-another-link"], ids=["missing", "empty", "forged", "other-link"])
def test_posts_without_this_links_csrf_token_are_refused(client: FlaskClient, database: Database, csrf: str | None) -> None:
    token = token_of(client)
    if csrf == "from-another-link":
        csrf = csrf_of(client.get(f"/u/{token_of(client, topic='news')}"))
    before = counts(database)
    response = client.post(f"/u/{token}/unsubscribe", data={} if csrf is None else {"csrf": csrf})
    assert response.status_code == 400
    assert counts(database) == before


def test_one_tap_unsubscribes_through_the_ledger(client: FlaskClient, database: Database) -> None:
    token = token_of(client)
    response = _post(client, token, "unsubscribe", lang="ru")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert Api(client).suppression(NUMBER, SENDER).json["suppressed"] is True
    with database.begin() as session:
        events = consent.events_for(session, NUMBER)
    assert [(e.action, e.source, e.topic, e.sender_scope, e.language, e.changed) for e in events] == [
        ("opt_out", "link_page", "*", SENDER, "ru", True)
    ]
    assert events[0].explanation["link"] == token and events[0].explanation["choice"] == "unsubscribe"
    done = client.get(response.headers["Location"])  # type: ignore[attr-defined]
    assert "Вы отписались от Acme Outlet Latino" in done.text and 'id="resubscribe"' in done.text


def test_resubscribe_works_within_the_grace_period_only(client: FlaskClient, database: Database) -> None:
    token = token_of(client)
    _post(client, token, "unsubscribe")
    assert _post(client, token, "resubscribe").status_code == 303  # type: ignore[attr-defined]
    assert not _status(database).suppressed
    _post(client, token, "unsubscribe")
    with database.begin() as session:
        session.execute(update(LinkChoice).values(created_at=utcnow() - timedelta(days=2)))
    page = client.get(f"/u/{token}/done?did=unsubscribed", headers={"Accept-Language": "en"})
    assert 'id="resubscribe"' not in page.text and "reply START" in page.text
    refused = _post(client, token, "resubscribe")
    assert refused.headers["Location"].endswith("did=closed&lang=es")  # type: ignore[attr-defined]
    assert "responde START" in client.get(refused.headers["Location"]).text  # type: ignore[attr-defined]
    assert _status(database).suppressed
    with database.begin() as session:
        actions = [e.action for e in consent.events_for(session, NUMBER)]
    assert actions == ["opt_out", "opt_in", "opt_out"]


def test_topics_pause_and_frequency(client: FlaskClient, database: Database) -> None:
    token = token_of(client, topic="offers")
    response = _post(client, token, "preferences", keep=["news"], pause="30", frequency="weekly")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert _status(database, "offers").suppressed and _status(database, "events").suppressed
    paused = _status(database, "news")
    assert paused.suppressed and paused.entries[0].until is not None
    assert timedelta(days=29) < paused.entries[0].until - utcnow() <= timedelta(days=30)
    prefs = client.get(f"/api/v1/preferences/{NUMBER}", query_string={"sender": SENDER},
                       headers={"Authorization": "Bearer test-api-token-0123456789"}).json
    assert prefs["topics_stopped"] == ["events", "offers"] and prefs["frequency"] == "weekly"
    assert prefs["suppressed"] is False and prefs["paused_until"]
    with database.begin() as session:
        events = consent.events_for(session, NUMBER)
    assert sorted((e.action, e.topic) for e in events) == [
        ("frequency", "*"), ("opt_out", "events"), ("opt_out", "offers"), ("pause", "*")
    ]
    assert next(e for e in events if e.action == "frequency").explanation["was"] == "normal"
    assert all(e.explanation["frequency"] == "weekly" for e in events)


def test_a_dropped_topic_can_be_ticked_again_within_the_grace(client: FlaskClient, database: Database) -> None:
    token = token_of(client)
    _post(client, token, "preferences", keep=["news", "events"])
    assert _status(database, "offers").suppressed
    _post(client, token, "preferences", keep=["news", "events", "offers"])
    assert not _status(database, "offers").suppressed


@pytest.mark.parametrize(
    "form",
    [{"keep": ["gossip"]}, {"pause": "5"}, {"pause": "-1"}, {"frequency": "hourly"}, {"reason": "bored"}],
    ids=["unknown-topic", "unoffered-pause", "negative-pause", "unknown-frequency", "unknown-reason"],
)
def test_choices_not_on_the_page_are_refused(client: FlaskClient, database: Database, form: dict[str, object]) -> None:
    token = token_of(client)
    before = counts(database)
    action = "reason" if "reason" in form else "preferences"
    assert _post(client, token, action, **form).status_code == 400  # type: ignore[attr-defined]
    assert counts(database) == before


def test_the_reason_comes_from_keywords_yaml_and_one_per_link(client: FlaskClient, database: Database) -> None:
    token = token_of(client)
    done = client.get(client.post(f"/u/{token}/unsubscribe", data={"csrf": csrf_of(client.get(f"/u/{token}"))},
                                  headers={"Accept-Language": "es"}).headers["Location"])
    assert "Demasiados mensajes" in done.text
    _post(client, token, "reason", reason="too_frequent", comment="  three a day  ")
    _post(client, token, "reason", reason="lost_interest", comment="")
    with database.begin() as session:
        rows = session.scalars(select(LinkChoice).where(LinkChoice.choice == "reason")).all()
    assert [(r.reason, r.comment) for r in rows] == [("lost_interest", None)]
    with database.begin() as session:
        notes = [e for e in consent.events_for(session, NUMBER) if e.action == "reason"]
    assert [(e.explanation["reason"], e.explanation["comment"], e.changed) for e in notes] == [
        ("too_frequent", "three a day", False), ("lost_interest", None, False)
    ]


def test_without_a_secret_key_the_page_says_so(app: Flask, client: FlaskClient) -> None:
    token = token_of(client)
    app.config["SECRET_KEY"] = None
    response = client.get(f"/u/{token}", headers={"Accept-Language": "en"})
    assert response.status_code == 503 and "Reply STOP" in response.text


def test_the_confirmation_never_claims_what_the_ledger_does_not_show(client: FlaskClient) -> None:
    token = token_of(client)
    page = client.get(f"/u/{token}/done?did=unsubscribed", headers={"Accept-Language": "en"})
    assert "You are unsubscribed" not in page.text and "Your choices for Acme Outlet Latino are saved" in page.text


def test_only_a_new_frequency_reaches_the_ledger(client: FlaskClient, database: Database) -> None:
    token = token_of(client)
    _post(client, token, "preferences", keep=["offers", "news", "events"], frequency="normal")
    _post(client, token, "preferences", keep=["offers", "news", "events"], frequency="monthly")
    _post(client, token, "preferences", keep=["offers", "news", "events"], frequency="monthly")
    with database.begin() as session:
        events = consent.events_for(session, NUMBER)
    assert [(e.action, e.source, e.explanation["frequency"]) for e in events] == [("frequency", "link_page", "monthly")]
    assert not _status(database).suppressed
    _post(client, token, "unsubscribe")
    _post(client, token, "reason", reason="other", comment="chained like every event")
    with database.begin() as session:
        verified = ledger.verify_chain(session)
    assert verified.ok and verified.checked == 3, verified
