"""The consent queries on their own: suppression rows and ledger events for each transition."""

from __future__ import annotations

import pytest

from storage import GLOBAL_SCOPE, Database
from storage.consent import ConsentChange, apply_change, events_for, suppression_status

NUMBER = "+14155550100"


def change(action: str, *scopes: str) -> ConsentChange:
    return ConsentChange(number=NUMBER, scopes=scopes, action=action, source="keyword")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("steps", "sender", "suppressed", "ledger"),
    [
        ([("opt_out", "+18005550199")], "+18005550199", True, [("opt_out", "+18005550199", True)]),
        ([("opt_out", "+18005550199")], "+18005550111", False, [("opt_out", "+18005550199", True)]),
        (
            [("opt_out", "+18005550199"), ("opt_out", "+18005550199")],
            "+18005550199",
            True,
            [("opt_out", "+18005550199", True), ("opt_out", "+18005550199", False)],
        ),
        (
            [("opt_out", "+18005550199"), ("opt_in", "+18005550199")],
            "+18005550199",
            False,
            [("opt_out", "+18005550199", True), ("opt_in", "+18005550199", True)],
        ),
        ([("opt_in", "+18005550199")], "+18005550199", False, [("opt_in", "+18005550199", False)]),
        ([("opt_out", GLOBAL_SCOPE)], "+12065550123", True, [("opt_out", GLOBAL_SCOPE, True)]),
        (
            [("opt_out", GLOBAL_SCOPE), ("opt_out", "+18005550199"), ("opt_in", "+18005550199")],
            "+12065550123",
            False,
            [
                ("opt_out", GLOBAL_SCOPE, True),
                ("opt_out", "+18005550199", True),
                ("opt_in", "+18005550199", True),
                ("opt_in", GLOBAL_SCOPE, True),
            ],
        ),
    ],
    ids=["stop", "stop-other-sender", "stop-twice", "stop-start", "start-alone", "stopall", "stopall-stop-start"],
)
def test_transitions(database: Database, steps: list[tuple[str, str]], sender: str, suppressed: bool, ledger: list[tuple[str, str, bool]]) -> None:
    for action, scope in steps:
        with database.begin() as session:
            apply_change(session, change(action, scope))
    with database.begin() as session:
        assert suppression_status(session, NUMBER, sender).suppressed is suppressed
        events = events_for(session, NUMBER)
        assert sorted((e.action, e.sender_scope, e.changed) for e in events) == sorted(ledger)


def test_status_lists_every_scope_without_a_sender(database: Database) -> None:
    with database.begin() as session:
        apply_change(session, change("opt_out", "+18005550199", "MGa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"))
    with database.begin() as session:
        status = suppression_status(session, NUMBER, None)
    assert status.suppressed
    assert {entry.scope for entry in status.entries} == {"+18005550199", "MGa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"}
    assert all(entry.since.tzinfo is not None for entry in status.entries)
