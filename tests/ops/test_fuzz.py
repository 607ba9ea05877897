"""Fuzz the webhook and the API with hypothesis: whatever arrives, never a 500.

150 examples a test, or FUZZ_EXAMPLES (tests/ops/fuzzing.py); test_fuzz_api.py fuzzes every OpenAPI operation.
"""

from __future__ import annotations

from urllib.parse import quote

from flask.testing import FlaskClient
from hypothesis import event, given
from hypothesis import strategies as st

from gateway import simulator
from tests.conftest import API_TOKEN
from tests.helpers import Twilio
from tests.ops.fuzzing import fuzz_settings

FUZZ = fuzz_settings(150)
FIELDS = ["MessageSid", "SmsSid", "From", "To", "Body", "MessagingServiceSid", "AccountSid", "NumMedia", "X"]
PHONE_ALPHABET = "+0123456789 ()-.#*xX/:telsmsTELwhatsapp\u0660\u0661\uff11\u00a0"

texts = st.text(max_size=200)
phone_like = st.text(alphabet=PHONE_ALPHABET, max_size=40)
fields = st.lists(st.tuples(st.sampled_from(FIELDS), st.one_of(texts, phone_like)), max_size=12)


def ok_webhook_answer(response: object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    event(f"HTTP {status}")
    assert status < 500, response.data  # type: ignore[attr-defined]
    if status == 200:
        assert response.data.startswith(b"<?xml")  # type: ignore[attr-defined]


@FUZZ
@given(form=fields)
def test_signed_random_forms(client: FlaskClient, form: list[tuple[str, str]]) -> None:
    ok_webhook_answer(Twilio(client).post(form))


@FUZZ
@given(body=texts, from_=phone_like, to=phone_like, sid=st.one_of(st.none(), texts))
def test_signed_inbound_with_random_values(client: FlaskClient, body: str, from_: str, to: str, sid: str | None) -> None:
    form = simulator.inbound_form(body, from_, to)
    if sid is not None:
        form["MessageSid"] = sid
    ok_webhook_answer(Twilio(client).post(form))


@FUZZ
@given(data=st.binary(max_size=2000), content_type=st.sampled_from(
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", "application/json", ""]
), signature=st.one_of(st.none(), st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)))
def test_random_bytes(client: FlaskClient, data: bytes, content_type: str, signature: str | None) -> None:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    for path in ("/webhooks/twilio/sms", "/webhooks/twilio/status"):
        response = client.post(path, data=data, content_type=content_type or None, headers=headers)
        assert response.status_code in (400, 403, 413), response.data


@FUZZ
@given(number=st.one_of(phone_like, texts), sender=st.one_of(st.none(), phone_like, texts),
       topic=st.one_of(st.none(), texts))
def test_api_random_numbers_and_queries(client: FlaskClient, number: str, sender: str | None, topic: str | None) -> None:
    query = {key: value for key, value in (("sender", sender), ("topic", topic)) if value is not None}
    response = client.get(
        "/api/v1/suppressions/" + quote(number, safe=""), query_string=query,
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    assert response.status_code in (200, 400, 404), response.data
    if response.status_code != 404:
        assert response.is_json


@FUZZ
@given(header=st.text(max_size=80))
def test_api_random_authorization(client: FlaskClient, header: str) -> None:
    try:
        response = client.get("/api/v1/suppressions/+14155550100", headers={"Authorization": header})
    except ValueError:
        return  # the test client itself refuses header values with newlines: no server involved
    assert response.status_code in (200, 401)


VALID_FROM = ["+14155550100", "(415) 555-0101", "+44 20 7946 0958", "0049 30 901820", "tel:+33142685300", "VERIFY", "86753"]


@FUZZ
@given(body=st.one_of(texts, st.text(max_size=1600)), from_=st.sampled_from(VALID_FROM),
       to=st.sampled_from(["+18005550199", "86753", "+447700900123"]))
def test_signed_random_bodies_from_real_senders(client: FlaskClient, body: str, from_: str, to: str) -> None:
    response = Twilio(client).post(simulator.inbound_form(body, from_, to))
    assert response.status_code == 200, response.data
    assert response.data.startswith(b"<?xml")
