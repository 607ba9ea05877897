"""Fuzz every form of the pages with hypothesis, in-process through the Flask app, on SQLite: never a 5xx.

The link page's forms (unsubscribe, resubscribe, preferences, reason) and its GET pages; the dashboard's
sign-in, sign-out, period (`?days=`) and false-positive mark, which edits keywords.yaml with the body of
a real fuzzy-matched message. Values are the offered ones, digits of other scripts ('²', '٣'), and any
text; the CSRF field is valid, missing or garbage; unexpected fields come along. FUZZ_EXAMPLES (100 by
default) examples per form, derandomized. Nightly: `FUZZ_EXAMPLES=2000 FUZZ_RANDOM=1` (tests/ops/fuzzing.py);
`--hypothesis-show-statistics` prints the counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage import InboundRow
from tests.helpers import Twilio
from tests.ops.fuzzing import database_url, fuzz_settings  # noqa: F401 - database_url: SQLite only
from tests.ops.pages_setup import csrf_of, enable_pages, sign_in, token_of
from tests.pages.conftest import STAFF_TOKEN

VALID = "<valid>"
"""Stands for the CSRF field (or link token) the page really issued."""

texts = st.text(max_size=40)
# Digits as str.isdigit sees them: superscripts int() refuses, other scripts' digits it reads.
other_digits = st.text(alphabet="²³¹⁰⁷٣٠٧०७𝟕", min_size=1, max_size=3)
digitish = st.one_of(other_digits, st.text(alphabet="0123456789\u200b -+.e", max_size=5))
extra_fields = st.dictionaries(st.text(min_size=1, max_size=10), texts, max_size=3)
csrf_field = st.one_of(st.just(VALID), st.just(VALID), st.none(), texts)


def choice(*offered: str) -> st.SearchStrategy[str | None]:
    """An offered value, a digit-like or any text, or no field at all."""
    return st.one_of(st.sampled_from(offered), other_digits, digitish, texts, st.none())


# A form the page could have sent, with one or two fields changed: each check is reached, not only the first.
SENT = {"lang": "en", "pause": "7", "frequency": "weekly", "reason": "too_frequent", "comment": "too many",
        "keep": ["offers", "news"]}
CHANGES = {
    "lang": choice("en", "es", "ru"),
    "pause": choice("0", "7", "30", "90"),
    "frequency": choice("normal", "weekly", "monthly"),
    "reason": choice("too_frequent", "not_relevant", "never_signed_up"),
    "comment": st.one_of(st.none(), st.text(max_size=1200)),
    "keep": st.lists(choice("offers", "news", "events"), max_size=4),
}
link_forms = st.lists(st.sampled_from(sorted(CHANGES)), unique=True, max_size=2).flatmap(
    lambda names: st.fixed_dictionaries({name: CHANGES[name] for name in names})).map(lambda changes: {**SENT, **changes})


@pytest.fixture
def pages(app: Flask, tmp_path: Path) -> FlaskClient:
    return enable_pages(app, tmp_path).test_client()


@pytest.fixture
def staff(pages: FlaskClient) -> str:
    """Sign the client in as staff, once for all the examples of a test; the dashboard forms' CSRF field."""
    return sign_in(pages)


@pytest.fixture
def link(pages: FlaskClient) -> tuple[str, str]:
    """A minted link's token and its page's CSRF field."""
    token = token_of(pages)
    return token, csrf_of(pages.get(f"/u/{token}"))


def form_data(fields: dict[str, Any], csrf: str | None, issued: str, extra: dict[str, str]) -> dict[str, object]:
    data: dict[str, object] = {**extra, **{name: value for name, value in fields.items() if value is not None}}
    if csrf is not None:
        data["csrf"] = issued if csrf == VALID else csrf
    return data


def path_token(token: str, raw: str) -> str:
    return token if raw == VALID else quote(raw, safe="") or "x"


def answered(status: int, *expected: int) -> None:
    event(f"HTTP {status}")
    assert status < 500 and status in expected, status


@pytest.mark.parametrize("action", ["unsubscribe", "resubscribe", "preferences", "reason"])
@fuzz_settings()
@given(fields=link_forms, csrf=st.one_of(st.just(VALID), csrf_field), token=st.one_of(st.just(VALID), st.just(VALID), texts),
       extra=extra_fields)
def test_link_page_forms(pages: FlaskClient, link: tuple[str, str], action: str, fields: dict[str, Any],
                         csrf: str | None, token: str, extra: dict[str, str]) -> None:
    response = pages.post(f"/u/{path_token(link[0], token)}/{action}", data=form_data(fields, csrf, link[1], extra))
    answered(response.status_code, 303, 400, 404)


@fuzz_settings()
@given(page=st.sampled_from(["", "/done"]), token=st.one_of(st.just(VALID), texts),
       query=st.dictionaries(st.sampled_from(["lang", "did", "_external", "token", "x"]), choice("en", "saved", "unsubscribed"),
                             max_size=3))
def test_link_pages(pages: FlaskClient, link: tuple[str, str], page: str, token: str, query: dict[str, str | None]) -> None:
    response = pages.get(f"/u/{path_token(link[0], token)}{page}",
                         query_string={key: value for key, value in query.items() if value is not None})
    answered(response.status_code, 200, 308, 400, 404)  # 308: werkzeug merges the slashes of an empty token


@fuzz_settings()
@given(token=st.one_of(st.just(STAFF_TOKEN), texts, st.text(min_size=200, max_size=400)), csrf=csrf_field,
       next_=choice("/dashboard/fuzzy?days=7", "//evil.example/", "https://evil.example/", "javascript:alert(1)", "/\\evil"),
       extra=extra_fields)
def test_dashboard_sign_in_form(app: Flask, pages: FlaskClient, token: str, csrf: str | None, next_: str | None,
                                extra: dict[str, str]) -> None:
    # The form itself is fuzzed, not the throttle of failed sign-ins (tests/pages test that): past its limits.
    app.config.update(DASHBOARD_LOGIN_FAILURES_PER_ADDRESS=10**6, DASHBOARD_LOGIN_FAILURES_GLOBAL=10**6)
    issued = csrf_of(pages.get("/dashboard/login"))
    data = form_data({"token": token, "next": next_}, csrf, issued, extra)
    response = pages.post("/dashboard/login", data=data)
    answered(response.status_code, 303, 400, 401, 429)
    if response.status_code == 303:
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location


@fuzz_settings()
@given(csrf=csrf_field, extra=extra_fields)
def test_dashboard_sign_out_form(pages: FlaskClient, csrf: str | None, extra: dict[str, str]) -> None:
    issued = sign_in(pages)
    response = pages.post("/dashboard/logout", data=form_data({}, csrf, issued, extra))
    answered(response.status_code, 303, 400)


@fuzz_settings()
@given(page=st.sampled_from(["/dashboard/", "/dashboard/fuzzy"]), days=choice("7", "30", "90", "365"),
       extra=st.dictionaries(texts, texts, max_size=2))
def test_dashboard_periods(pages: FlaskClient, staff: str, page: str, days: str | None, extra: dict[str, str]) -> None:
    query = {**extra, **({"days": days} if days is not None else {})}
    answered(pages.get(page, query_string=query).status_code, 200, 400)


KEYWORDS = ["stop", "unsubscribe", "cancel", "quit", "end", "optout", "отписаться", "baja"]
FUZZY_WORDS = ["stoo", "Stpo", "sotp", "unsubscrbe", "cancle", "qiut", "endd", "Отписатся", "bajaa"]
decoration = st.text(alphabet=" \t\"'\\:#-[]{}!?.,*&|>%@`~\u00a0\u2028🛑é", max_size=3)


def _typo(word: str, at: int, letter: str) -> str:
    """One letter of `word` replaced: most such typos match only in the fuzzy tier."""
    at %= len(word)
    return word[:at] + letter + word[at + 1:]


typos = st.builds(_typo, st.sampled_from(KEYWORDS), st.integers(1, 20), st.sampled_from("aeiouyxspqéñь"))
fuzzy_bodies = st.builds(lambda before, word, after: before + word + after,
                         decoration, st.one_of(st.sampled_from(FUZZY_WORDS), typos), decoration)
message_ids = st.one_of(st.just(VALID), st.just(VALID), st.just(VALID), st.integers(min_value=0, max_value=2**70),
                        st.integers(min_value=2**63 - 2, max_value=10**30), texts)


@fuzz_settings()
@given(body=fuzzy_bodies, message_id=message_ids, days=st.one_of(st.just("7"), choice("7", "30", "90", "365")))
def test_dashboard_false_positive_form(app: Flask, pages: FlaskClient, staff: str, body: str, message_id: object,
                                       days: str | None) -> None:
    """A real fuzzy match's body goes into keywords.yaml: whatever it holds, the file still loads next time."""
    # A valid CSRF field always: the other forms fuzz it, this one the examples edit behind it.
    # Every message arrives through the webhook, which reloads keywords.yaml: a broken edit fails here.
    assert Twilio(pages).sms(body, from_="+14155550123").status_code == 200
    with app.extensions["gateway.database"].begin() as session:
        last = session.scalar(select(func.max(InboundRow.id)))
    target = str(last) if message_id == VALID else quote(str(message_id), safe="") or "x"
    query = {"days": days} if days is not None else {}
    response = pages.post(f"/dashboard/fuzzy/{target}/false-positive", query_string=query, data={"csrf": staff})
    answered(response.status_code, 303, 400, 404)
    if response.status_code == 303:
        event("marked" if "Marked" in pages.get(response.headers["Location"]).text else "refused")
