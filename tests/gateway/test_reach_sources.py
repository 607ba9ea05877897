"""Every source of an opt-out reaches as a keyword STOP does: the unsubscribe page, staff (API and CLI), imports.

The same brands as tests/gateway/test_brand_reach.py (acme: two numbers, beta: one, a number in no
brand), on both backends; what each source writes lifts as START would, and the ledger says which
reach was applied and why, with its chain intact.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from storage import ConsentEvent, ledger
from tests.conftest import API_TOKEN
from tests.gateway.test_brand_reach import ACME, ACME_TOO, EXPECTED, NONE, PERSON, suppressed, with_brands

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _reaches(app: Flask, source: str) -> set[str]:
    """The reach each opt-out of `source` recorded; the chain must still verify."""
    with app.extensions["gateway.database"].begin() as session:
        assert ledger.verify_chain(session).ok
        events = session.scalars(select(ConsentEvent).where(ConsentEvent.source == source,
                                                            ConsentEvent.action.in_(("opt_out", "pause")))).all()
        return {event.explanation["reach"] for event in events}


def _page_post(client: FlaskClient, token: str, action: str) -> None:
    page = client.get(f"/u/{token}")
    found = CSRF.search(page.text)
    assert found, page.text[:200]
    answer = client.post(f"/u/{token}/{action}", data={"csrf": found.group(1)})
    assert answer.status_code in (200, 302, 303), answer.text[:200]


@pytest.mark.parametrize("reach", ["number", "brand", "account"])
def test_the_unsubscribe_page_reaches_as_a_stop_and_resubscribing_lifts_it(app: Flask, client: FlaskClient,
                                                                          tmp_path: Path, reach: str) -> None:
    with_brands(app, tmp_path, reach)
    app.config["SECRET_KEY"] = "a page secret for the test, long enough"
    minted = client.post("/api/v1/links", json={"number": PERSON, "sender": ACME}, headers=AUTH)
    assert minted.status_code in (200, 201), minted.text
    token = minted.json["token"]
    _page_post(client, token, "unsubscribe")
    assert suppressed(client) == EXPECTED[reach]
    assert _reaches(app, "link_page") == {reach}
    _page_post(client, token, "resubscribe")
    assert suppressed(client) == NONE


def test_staff_suppress_reaches_the_brand_unless_they_choose_otherwise(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    with_brands(app, tmp_path, "brand")
    body = {"number": PERSON, "sender": ACME, "reason": "asked on the phone"}
    answer = client.post("/api/v1/suppressions", json=body, headers=AUTH)
    assert answer.status_code == 201, answer.text
    assert (answer.json["reach"], set(answer.json["scopes"])) == ("brand", {ACME, ACME_TOO})
    assert suppressed(client) == EXPECTED["brand"]
    # Lifting through the brand's other number lifts what the suppression covered, as START does.
    lifted = client.delete(f"/api/v1/suppressions/{PERSON}", query_string={"sender": ACME_TOO, "reason": "asked back"}, headers=AUTH)
    assert lifted.status_code == 200 and lifted.json["lifted"] == 2
    assert suppressed(client) == NONE
    only = client.post("/api/v1/suppressions", json={**body, "reach": "number"}, headers=AUTH)
    assert only.status_code == 201 and suppressed(client) == EXPECTED["number"]
    assert _reaches(app, "staff") == {"brand", "number"}


@pytest.mark.parametrize(("body", "says"), [({"reach": "galaxy"}, "reach: one of"), ({"reach": 3}, "reach: one of")])
def test_a_bad_reach_is_refused(app: Flask, client: FlaskClient, tmp_path: Path, body: dict[str, object], says: str) -> None:
    with_brands(app, tmp_path, "brand")
    answer = client.post("/api/v1/suppressions", json={"number": PERSON, "sender": ACME, "reason": "r", **body}, headers=AUTH)
    assert answer.status_code == 400 and says in answer.json["error"]
    imported = client.post("/api/v1/imports", query_string={"sender": ACME, "reach": "everywhere"}, data=f"number\n{PERSON}\n".encode(),
                           headers={**AUTH, "Content-Type": "text/csv"})
    assert imported.status_code == 400 and "reach: one of" in imported.json["error"]
    assert suppressed(client) == NONE


@pytest.mark.parametrize("chosen", [None, "number", "account"])
def test_an_import_reaches_each_rows_brand(app: Flask, client: FlaskClient, tmp_path: Path, chosen: str | None) -> None:
    with_brands(app, tmp_path, "brand")
    query = {"sender": ACME, **({"reach": chosen} if chosen else {})}
    rows = f"number\n{PERSON}\n{PERSON}\n+14155550111\n".encode()
    answer = client.post("/api/v1/imports", query_string=query, data=rows, headers={**AUTH, "Content-Type": "text/csv"})
    assert answer.status_code == 201, answer.text
    per_row = {None: 2, "number": 1, "account": 2}[chosen]
    assert {k: answer.json[k] for k in ("rows", "repeated", "events", "added", "made_permanent")} == {
        "rows": 3, "repeated": 1, "events": 2 * per_row, "added": 2 * per_row, "made_permanent": 0}
    assert suppressed(client) == EXPECTED[chosen or "brand"]
    assert _reaches(app, "import") == {chosen or "brand_setting"}


def test_the_cli_suppresses_with_the_reach_staff_choose(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    with_brands(app, tmp_path, "number")
    runner = app.test_cli_runner()
    done = runner.invoke(args=["suppressions", "suppress", PERSON, "--sender", ACME, "--reason", "letter", "--reach", "account"])
    assert done.exit_code == 0, done.output
    assert suppressed(client) == EXPECTED["account"]
    back = runner.invoke(args=["suppressions", "unsuppress", PERSON, "--sender", ACME, "--reason", "letter"])
    assert back.exit_code == 0, back.output
    assert suppressed(client) == NONE
    imported = tmp_path / "list.csv"
    imported.write_text(f"number\n{PERSON}\n", encoding="utf-8")
    # The brand's own reach (number) by default: only the row's sender.
    assert runner.invoke(args=["suppressions", "import", str(imported), "--sender", ACME]).exit_code == 0
    assert suppressed(client) == EXPECTED["number"]
