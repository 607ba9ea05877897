"""/dashboard: staff sign-in, drawn charts from real traffic, and marking a fuzzy match as a false positive."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from werkzeug.test import TestResponse

from storage import Database
from storage.review import FalsePositiveMark
from tests.helpers import Twilio
from tests.pages.conftest import STAFF_TOKEN, csrf_of, token_of


def sign_in(client: FlaskClient, token: str = STAFF_TOKEN, next_: str = "") -> TestResponse:
    page = client.get("/dashboard/login")
    return client.post("/dashboard/login", data={"csrf": csrf_of(page), "token": token, "next": next_})


def _traffic(client: FlaskClient) -> None:
    """An exact STOP, a fuzzy 'Stoo', a START, and a link-page unsubscribe with a reason."""
    sms = Twilio(client)
    assert sms.sms("STOP", from_="+14155550101").status_code == 200
    assert sms.sms("Stoo", from_="+14155550102").status_code == 200
    assert sms.sms("Отписаться", from_="+14155550103").status_code == 200
    assert sms.sms("START", from_="+14155550101").status_code == 200
    token = token_of(client, number="+14155550104")
    csrf = csrf_of(client.get(f"/u/{token}"))
    client.post(f"/u/{token}/unsubscribe", data={"csrf": csrf, "lang": "es"})
    client.post(f"/u/{token}/reason", data={"csrf": csrf, "reason": "too_frequent", "comment": "a lot"})


def test_the_dashboard_needs_a_staff_sign_in(client: FlaskClient) -> None:
    response = client.get("/dashboard/?days=7")
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]
    assert sign_in(client, "test-api-token-0123456789").status_code == 401, "an API token is not a staff token"
    assert client.get("/dashboard/").status_code == 302
    response = sign_in(client, next_="/dashboard/fuzzy?days=7")
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/fuzzy?days=7"
    assert client.get("/dashboard/").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"],
                         ids=["absolute", "scheme-relative", "javascript"])
def test_sign_in_never_redirects_off_site(client: FlaskClient, target: str) -> None:
    assert sign_in(client, next_=target).headers["Location"] == "/dashboard/"


def test_posts_need_the_sessions_csrf_field(client: FlaskClient) -> None:
    assert client.post("/dashboard/login", data={"token": STAFF_TOKEN}).status_code == 400
    sign_in(client)
    assert client.post("/dashboard/logout").status_code == 400
    assert client.get("/dashboard/").status_code == 200
    csrf = csrf_of(client.get("/dashboard/"))
    assert client.post("/dashboard/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/dashboard/").status_code == 302


def test_staff_accounts_from_the_cli(client: FlaskClient, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["staff", "add", "alice"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert runner.invoke(args=["staff", "add", "alice"]).exit_code != 0
    assert sign_in(client, token).status_code == 303
    assert "staff:alice" in client.get("/dashboard/").text
    assert runner.invoke(args=["staff", "disable", "alice"]).exit_code == 0
    assert client.get("/dashboard/").status_code == 302, "a disabled account's session ends at once"
    assert sign_in(client, token).status_code == 401


def test_bad_period_is_400(client: FlaskClient) -> None:
    sign_in(client)
    assert client.get("/dashboard/?days=3").status_code == 400


def test_an_empty_period_still_draws_every_chart(client: FlaskClient) -> None:
    sign_in(client)
    page = client.get("/dashboard/?days=90").text
    assert page.count('<svg class="chart"') == 4
    assert page.count("no data in this period") == 3 and "No events yet." in page
    assert "No fuzzy-tier matches" in client.get("/dashboard/fuzzy?days=7").text


def test_charts_are_drawn_from_the_ledger_and_the_reasons(client: FlaskClient) -> None:
    _traffic(client)
    sign_in(client)
    page = client.get("/dashboard/?days=7").text
    for chart in ("chart-daily", "chart-language", "chart-rule", "chart-reason"):
        assert re.search(rf'<svg class="chart" id="{chart}" role="img"', page), chart
    daily = page[page.index('id="chart-daily"'):]
    daily = daily[: daily.index("</svg>")]
    assert re.search(r'class="series-opt_out"[^>]*><title>\d{4}-\d\d-\d\d Opt-outs: 4</title>', daily)
    assert re.search(r'class="series-opt_in"[^>]*><title>\d{4}-\d\d-\d\d Re-subscribes: 1</title>', daily)
    assert "<title>fuzzy · STOP, Opt-outs: 1</title>" in page
    assert "<title>exact · STOP, Opt-outs: 1</title>" in page and "<title>exact · STOP, Re-subscribes: 0</title>" in page
    assert "<title>exact · START, Re-subscribes: 1</title>" in page
    assert "<title>link_page, Opt-outs: 1</title>" in page
    assert "<title>ru, Opt-outs: 1</title>" in page and "<title>es, Opt-outs: 1</title>" in page
    assert "<title>en, Re-subscribes: 1</title>" in page
    assert "<title>Too many messages, People: 1</title>" in page
    assert page.count("<tr><td>20") >= 5, "the latest events table lists the ledger"


def test_a_fuzzy_match_marked_false_positive_stops_matching(
    app: Flask, client: FlaskClient, database: Database, keywords_file: Path
) -> None:
    _traffic(client)
    sign_in(client)
    page = client.get("/dashboard/fuzzy")
    assert "Stoo" in page.text and "Отписаться" not in page.text
    message_id = int(re.search(r'id="message-(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    before = keywords_file.read_text(encoding="utf-8")
    response = client.post(f"/dashboard/fuzzy/{message_id}/false-positive?days=30", data={"csrf": csrf_of(page)})
    assert response.status_code == 303
    after = keywords_file.read_text(encoding="utf-8")
    assert '- "Stoo"' in after and after.count("\n") == before.count("\n") + 1
    listed = client.get("/dashboard/fuzzy").text
    assert "False positive, by staff-token:" in listed and "protected &#39;stoo&#39; (en)" in listed
    # The running gateway reloads the file: the same typo from someone else is no longer an opt-out.
    reply = Twilio(client).sms("Stoo", from_="+14155550199")
    assert "<Message>" not in reply.text
    # A second mark is refused (already an example) and recorded, but the accepted one stands.
    client.post(f"/dashboard/fuzzy/{message_id}/false-positive", data={"csrf": csrf_of(page)})
    with database.begin() as session:
        marks = session.scalars(select(FalsePositiveMark).order_by(FalsePositiveMark.id)).all()
    assert [(m.accepted, m.actor.startswith("staff-token:")) for m in marks] == [(True, True), (False, True)]
    assert "already a must-not-match example" in marks[1].detail
    assert "False positive, by" in client.get("/dashboard/fuzzy").text


def test_only_fuzzy_matches_can_be_marked(client: FlaskClient) -> None:
    _traffic(client)
    sign_in(client)
    csrf = csrf_of(client.get("/dashboard/fuzzy"))
    assert client.post("/dashboard/fuzzy/1/false-positive", data={"csrf": csrf}).status_code == 404


def test_the_dashboard_in_a_browser(browser, live_server: str, client: FlaskClient, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _traffic(client)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/dashboard/")
        page.get_by_label("Staff token").fill(STAFF_TOKEN)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/dashboard/")
        assert page.locator("svg.chart").count() == 4
        box = page.locator("#chart-daily").bounding_box()
        assert box["width"] > 500 and box["height"] > 150, "the time chart is drawn at a readable size"
        page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
        page.get_by_role("link", name="Fuzzy matches").click()
        page.get_by_role("button", name="Mark “Stoo” as a false positive").click()
        assert "Marked" in page.locator(".flash").inner_text()
        page.screenshot(path=str(tmp_path / "fuzzy.png"), full_page=True)
    finally:
        context.close()
