"""The operator commands behind the API: suppressions import/export/scrub/suppress/unsuppress, ledger head/seal."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import select

from storage import ConsentEvent
from tests.helpers import Api

SENDER = "+18005550199"


def test_import_export_scrub(runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path) -> None:
    listed = tmp_path / "optouts.csv"
    listed.write_text("msisdn\n+14155550100\n(415) 555-0101\n")
    imported = runner.invoke(args=["suppressions", "import", str(listed), "--sender", SENDER, "--source", "provider_export"])
    assert imported.exit_code == 0, imported.output
    assert "2 rows, 2 added" in imported.output
    exported = runner.invoke(args=["suppressions", "export"])
    rows = list(csv.reader(io.StringIO(exported.output)))[1:]
    assert [row[0] for row in rows] == ["+14155550100", "+14155550101"]
    assert all(row[4] == "provider_export" for row in rows)
    campaign = tmp_path / "campaign.csv"
    campaign.write_text("+14155550100\n+14155550102\nnope\n")
    scrubbed = runner.invoke(args=["suppressions", "scrub", str(campaign), "--sender", SENDER])
    assert scrubbed.exit_code == 0
    assert "+14155550102\n" in scrubbed.output and "+14155550100\n" not in scrubbed.output
    assert "line 3: 'nope'" in scrubbed.output and "1 allowed, 1 suppressed, 1 invalid" in scrubbed.output
    assert Api(client).suppression("+14155550101", SENDER).json["reason"] == "provider_export"


def test_a_bad_import_file_lists_lines_and_imports_nothing(runner: FlaskCliRunner, app: Flask, tmp_path: Path) -> None:
    listed = tmp_path / "bad.csv"
    listed.write_text("number\n+14155550100\n+1415\n\n+14155550102\nabc\n")
    result = runner.invoke(args=["suppressions", "import", str(listed), "--sender", SENDER])
    assert result.exit_code == 1
    assert "line 3: '+1415'" in result.output and "line 6: 'abc'" in result.output
    with app.extensions["gateway.database"].begin() as session:
        assert session.scalars(select(ConsentEvent)).all() == []


def test_suppress_and_unsuppress_by_staff(runner: FlaskCliRunner, app: Flask, client: FlaskClient) -> None:
    done = runner.invoke(args=["suppressions", "suppress", "+14155550100", "--reason", "complaint", "--actor", "maria"])
    assert done.exit_code == 0 and "suppressed" in done.output
    assert Api(client).suppression("+14155550100", "+18005550111").json["suppressed"] is True
    lifted = runner.invoke(args=["suppressions", "unsuppress", "+14155550100", "--reason", "wrong number", "--actor", "maria"])
    assert lifted.exit_code == 0 and "lifted 1" in lifted.output
    assert Api(client).suppression("+14155550100").json["suppressed"] is False
    with app.extensions["gateway.database"].begin() as session:
        events = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
        assert [(e.action, e.source, e.actor, e.explanation["reason"]) for e in events] == [
            ("opt_out", "staff", "maria", "complaint"), ("opt_in", "staff", "maria", "wrong number")]
    head = runner.invoke(args=["ledger", "head"])
    assert head.output.startswith("2 ") and head.output.strip() == runner.invoke(args=["ledger", "seal"]).output.replace("head ", "").strip()


def test_bad_arguments_are_refused(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["suppressions", "suppress", "not-a-number", "--reason", "x"]).exit_code == 2
    assert runner.invoke(args=["suppressions", "suppress", "+14155550100", "--reason", "x", "--until", "2030-01-01"]).exit_code == 2
    assert runner.invoke(args=["ledger", "erase", "+14155550100"]).exit_code == 2  # --reason is required
