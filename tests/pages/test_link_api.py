"""POST /api/v1/links mints the text to append; DELETE revokes; GET /api/v1/preferences reports choices."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.api import links
from tests.conftest import API_TOKEN
from tests.pages.conftest import NUMBER, SECRET, SENDER, mint

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def test_mint_answers_the_text_to_append_and_what_it_costs(app: Flask, client: FlaskClient) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://sms.example.org"
    response = mint(client, topic="offers", message="Acme: 20% off everything today only")
    assert response.status_code == 201
    body = response.json
    assert len(body["token"]) <= 12
    assert body["url"] == f"https://sms.example.org/u/{body['token']}"
    assert body["text"] == f"Unsubscribe: {body['url']}"
    assert body["append"] == "\n" + body["text"]
    assert body["appended"] == {"chars": len(body["append"]), "encoding": "GSM-7", "segments": 1}
    assert body["with_link"]["segments"] == 1 and body["extra_segments"] == 0
    assert links.verify_token(SECRET, body["token"], NUMBER, SENDER, "offers")


def test_a_russian_label_makes_the_message_ucs2(app: Flask, client: FlaskClient) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://sms.example.org"
    message = "Acme: new arrivals this week, come and see them in store"
    body = mint(client, language="ru", message=message).json
    assert body["text"].startswith("Отписаться: https://")
    assert body["appended"]["encoding"] == "UCS-2"
    assert body["message"] == {"chars": len(message), "encoding": "GSM-7", "segments": 1}
    assert body["with_link"]["encoding"] == "UCS-2" and body["extra_segments"] == 1


def test_minting_again_reuses_the_live_link(client: FlaskClient) -> None:
    first, second = mint(client), mint(client)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json["token"] == first.json["token"] and second.json["reused"] is True
    assert mint(client, topic="news").json["token"] != first.json["token"]


def test_without_public_base_url_the_request_host_is_used(client: FlaskClient) -> None:
    assert mint(client).json["url"].startswith("http://localhost/u/")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (None, "JSON object"),
        ({"sender": SENDER}, "'number' is required"),
        ({"number": NUMBER}, "'sender' is required"),
        ({"number": "not a number", "sender": SENDER}, "number"),
        ({"number": NUMBER, "sender": "whatsapp:+18005550199"}, "sender"),
        ({"number": NUMBER, "sender": SENDER, "topic": "gossip"}, "unknown topic"),
        ({"number": NUMBER, "sender": SENDER, "language": "xx"}, "unknown language"),
        ({"number": NUMBER, "sender": SENDER, "message": 12}, "'message' must be a string"),
    ],
    ids=["no-json", "no-number", "no-sender", "bad-number", "bad-sender", "unknown-topic", "unknown-language", "message-not-text"],
)
def test_bad_requests_get_400_with_the_reason(client: FlaskClient, payload: Any, reason: str) -> None:
    response = client.post("/api/v1/links", json=payload, headers=AUTH) if payload else client.post(
        "/api/v1/links", data="number=1", headers=AUTH
    )
    assert response.status_code == 400
    assert reason in response.json["error"]


def test_minting_needs_the_api_token(client: FlaskClient) -> None:
    response = client.post("/api/v1/links", json={"number": NUMBER, "sender": SENDER})
    assert response.status_code == 401


def test_without_a_secret_key_minting_is_503(app: Flask, client: FlaskClient) -> None:
    app.config["SECRET_KEY"] = None
    response = mint(client)
    assert response.status_code == 503
    assert "SECRET_KEY" in response.json["error"]


def test_revoking_a_numbers_links(client: FlaskClient) -> None:
    token = mint(client).json["token"]
    response = client.delete(f"/api/v1/links/{NUMBER}", headers=AUTH)
    assert response.json == {"number": NUMBER, "revoked": 1}
    assert client.get(f"/u/{token}").status_code == 404
    assert mint(client).json["token"] != token


def test_preferences_needs_a_sender(client: FlaskClient) -> None:
    response = client.get(f"/api/v1/preferences/{NUMBER}", headers=AUTH)
    assert response.status_code == 400


def test_preferences_of_an_untouched_number(client: FlaskClient) -> None:
    response = client.get(f"/api/v1/preferences/{NUMBER}", query_string={"sender": SENDER}, headers=AUTH)
    assert response.json == {
        "number": NUMBER, "sender": SENDER, "suppressed": False, "paused_until": None,
        "topics_stopped": [], "frequency": "normal",
    }


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("GATEWAY_TOPICS", '["offers"]'),
        ("GATEWAY_TOPICS", '{"default": "offers"}'),
        ("GATEWAY_TOPICS", '{"default": [""]}'),
        ("GATEWAY_LINK_LABELS", '{"es": "Baja"}'),
    ],
    ids=["topics-list", "topics-string", "topics-empty-name", "labels-without-english"],
)
def test_bad_link_settings_stop_the_start(monkeypatch: pytest.MonkeyPatch, env: str, value: str) -> None:
    from gateway import create_app

    monkeypatch.setenv(env, value)
    with pytest.raises(ValueError, match=env):
        create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": SECRET})


def test_topics_per_sender(app: Flask, client: FlaskClient) -> None:
    app.config["TOPICS"] = {"default": ["offers"], SENDER: ["vip-club", "offers"]}
    assert mint(client, topic="vip-club").status_code == 201
    assert mint(client, sender="+18005550100", topic="vip-club").status_code == 400
    page = client.get(f"/u/{mint(client, topic='offers').json['token']}", headers={"Accept-Language": "en"})
    assert 'value="vip-club"' in page.text and "Offers and sales" in page.text
