"""Small helpers for the tests: signed Twilio requests and API calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from gateway import simulator
from tests.conftest import API_TOKEN, TWILIO_TOKEN

BASE = "http://localhost"
SMS_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"


class Twilio:
    """Posts forms to the webhooks, signed with twilio's RequestValidator as Twilio signs them."""

    def __init__(self, client: FlaskClient, token: str = TWILIO_TOKEN) -> None:
        self.client = client
        self.token = token

    def post(
        self,
        form: Mapping[str, str] | list[tuple[str, str]],
        path: str = SMS_PATH,
        *,
        signature: str | None = None,
        signed: bool = True,
        sign_url: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> TestResponse:
        data = MultiDict(list(form.items()) if isinstance(form, Mapping) else list(form))
        all_headers = dict(headers or {})
        if signed:
            computed = RequestValidator(self.token).compute_signature(sign_url or BASE + path, data)
            all_headers["X-Twilio-Signature"] = signature or computed
        return self.client.post(path, data=data, headers=all_headers)

    def sms(self, body: str, from_: str = "+14155550100", to: str = "+18005550199", **kwargs: Any) -> TestResponse:
        form = simulator.inbound_form(body, from_, to, **kwargs)
        return self.post(form)


class Api:
    """Calls the JSON API with the test bearer token."""

    def __init__(self, client: FlaskClient, token: str = API_TOKEN) -> None:
        self.client = client
        self.token = token

    def suppression(self, number: str, sender: str | None = None, topic: str | None = None) -> TestResponse:
        query = {"sender": sender} if sender else {}
        if topic:
            query["topic"] = topic
        return self.client.get(
            f"/api/v1/suppressions/{number}", query_string=query, headers={"Authorization": f"Bearer {self.token}"}
        )
