"""Bulk suppression work on both backends: import chains every row, scrub and export see what checks see."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from gateway.api import csv_rows
from gateway.addresses import parse_phone
from storage import GLOBAL_SCOPE, Database
from storage.consent import bulk
from storage.ledger import import_chain
from storage.consent.bulk import ImportRow, import_suppressions
from storage.lists import export, scrub
from storage.consent import ConsentChange, apply_change, suppression_status
from storage.erasure import erase
from storage.ledger import verify_chain

SENDER = "+18005550199"
OTHER = "+18005550111"


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"+1415555{start + i:04d}" for i in range(count)]


def change(database: Database, number: str, action: str, scope: str = SENDER, topic: str = "*", until: datetime | None = None) -> None:
    with database.begin() as session:
        apply_change(session, ConsentChange(number=number, scopes=(scope,), action=action, source="keyword", topic=topic, until=until))  # type: ignore[arg-type]


@pytest.mark.parametrize("helper_rows", [import_chain.HELPER_ROWS, 1], ids=["hashed-here", "hashed-in-a-helper"])
def test_an_import_chains_one_event_per_row_between_ordinary_changes(database: Database, monkeypatch: pytest.MonkeyPatch,
                                                                     helper_rows: int) -> None:
    monkeypatch.setattr(import_chain, "HELPER_ROWS", helper_rows)
    monkeypatch.setattr(bulk, "WRITE_CHUNK", 120)  # chunks of events and their suppressions, written 50 rows and 20 at a time
    change(database, "+14155559999", "opt_out")
    rows = [ImportRow(line + 2, number, SENDER, "promos" if line % 3 == 0 else "*") for line, number in enumerate(numbers(300))]
    rows.append(ImportRow(400, numbers(1)[0], SENDER, "promos"))  # a repeat of line 2
    with database.begin() as session:
        result = import_suppressions(session, rows, actor="ops", note="crm \"export\" \\ v2")
    change(database, "+14155559998", "opt_out")
    assert (result.rows, result.added, result.already, result.repeated) == (301, 300, 0, 1)
    assert (result.first_event_id, result.last_event_id) == (2, 301)
    with database.begin() as session:
        verified = verify_chain(session)
        assert (verified.ok, verified.checked) == (True, 302), verified.reason
        assert suppression_status(session, numbers(1)[0], SENDER, "promos").suppressed
        assert not suppression_status(session, numbers(1)[0], SENDER, "orders").suppressed
        assert suppression_status(session, numbers(2)[1], SENDER, "orders").suppressed


@pytest.mark.parametrize("chunk", [bulk.WRITE_CHUNK, 1], ids=["one-chunk", "chunk-per-row"])
def test_an_import_makes_a_pause_permanent_and_leaves_opt_outs_alone(database: Database, monkeypatch: pytest.MonkeyPatch,
                                                                   chunk: int) -> None:
    monkeypatch.setattr(bulk, "WRITE_CHUNK", chunk)
    paused, stopped, fresh = numbers(3)
    change(database, paused, "pause", until=datetime.now(timezone.utc) + timedelta(days=3))
    change(database, stopped, "opt_out")
    with database.begin() as session:
        result = import_suppressions(session, [ImportRow(2, paused, SENDER), ImportRow(3, stopped, SENDER), ImportRow(4, fresh, SENDER)], actor="ops")
    assert (result.added, result.already) == (1, 1)
    later = datetime.now(timezone.utc) + timedelta(days=30)
    with database.begin() as session:
        assert all(suppression_status(session, n, SENDER, now=later).suppressed for n in (paused, stopped, fresh))
        assert verify_chain(session).ok


def test_an_import_stamped_in_another_time_zone_verifies(database: Database) -> None:
    new_york = datetime.now(timezone(timedelta(hours=-5)))
    with database.begin() as session:
        import_suppressions(session, [ImportRow(2, numbers(1)[0], SENDER)], actor="ops", now=new_york)
    with database.begin() as session:
        assert verify_chain(session).ok


def test_scrub_matches_single_checks(database: Database) -> None:
    listed = numbers(40)
    now = datetime.now(timezone.utc)
    for index, number in enumerate(listed):
        kind = index % 5
        if kind == 0:
            change(database, number, "opt_out")
        elif kind == 1:
            change(database, number, "opt_out", scope=GLOBAL_SCOPE)
        elif kind == 2:
            change(database, number, "opt_out", topic="promos")
        elif kind == 3:
            change(database, number, "pause", until=now - timedelta(minutes=1) if index % 2 else now + timedelta(days=1))
        else:
            change(database, number, "opt_out", scope=OTHER)
    campaign = listed + numbers(10, 100)
    for topic in (None, "promos", "orders"):
        with database.begin() as session:
            got = scrub(session, campaign, SENDER, topic)
            expected = {n for n in campaign if suppression_status(session, n, SENDER, topic).suppressed}
        assert got == expected and got, topic


def test_scrub_and_check_find_an_erased_number_export_leaves_it_out(database: Database) -> None:
    person, other = numbers(2)
    change(database, person, "opt_out")
    change(database, other, "opt_out")
    with database.begin() as session:
        erase(session, person, actor="dpo", reason="request")
    with database.begin() as session:
        assert scrub(session, [person, other, numbers(1, 50)[0]], OTHER, None) == {person}
        assert suppression_status(session, person, OTHER).suppressed
        assert [row[0] for row in export(session)] == [other]


def test_the_north_american_fast_path_agrees_with_phonenumbers() -> None:
    rng = random.Random(2026)
    # Every three-digit start (area codes, and the 0/1 starts NANP never gives out), then random ones.
    samples = [f"+1{start:03d}" + "".join(rng.choice("0123456789") for _ in range(7)) for start in range(1000)]
    samples += ["+1" + "".join(rng.choice("0123456789") for _ in range(10)) for _ in range(3000)]
    for sample in samples:
        assert csv_rows.normalise(sample, "US") == parse_phone(sample, "US")


def test_digits_of_other_scripts_leave_the_fast_path_and_come_out_ascii() -> None:
    arabic_indic = "+1" + "".join(chr(0x0660 + int(digit)) for digit in "4155550100")
    assert csv_rows.normalise(arabic_indic, "US") == parse_phone(arabic_indic, "US") == "+14155550100"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" +14155550100 ", "+14155550100"), ("(415) 555-0100", "+14155550100"), ("0044 20 7946 0958", "+442079460958")],
    ids=["padded", "national", "00-prefix"],
)
def test_numbers_outside_the_fast_path_go_through_phonenumbers(raw: str, expected: str) -> None:
    assert csv_rows.normalise(raw, "US") == expected
