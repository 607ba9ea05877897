"""The ledger's hash chain: it verifies after real changes, and any edit or deletion of a row is found."""

from __future__ import annotations

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import text

from storage import GLOBAL_SCOPE, Database, crypto
from storage.consent import ConsentChange, apply_change
from storage.ledger import verify_chain

SENDER = "+18005550199"


def fill(database: Database, count: int = 5) -> None:
    """A few real changes from several numbers: opt-outs, a STOPALL, an opt-in."""
    steps = [("+14155550100", "opt_out", SENDER), ("+14155550101", "opt_out", GLOBAL_SCOPE),
             ("+14155550100", "opt_in", SENDER), ("+14155550102", "opt_out", SENDER),
             ("+14155550103", "opt_out", SENDER)]
    for index, (number, action, scope) in enumerate(steps[:count]):
        with database.begin() as session:
            apply_change(session, ConsentChange(number=number, scopes=(scope,), action=action, source="keyword",  # type: ignore[arg-type]
                                                explanation={"rule": "STOP", "normalized": f"stop please {index}"}))


def test_an_untouched_chain_verifies(database: Database) -> None:
    fill(database)
    with database.begin() as session:
        result = verify_chain(session)
    assert (result.ok, result.checked, result.first_broken_id, result.reason) == (True, 5, None, None)


def test_an_empty_ledger_verifies(database: Database) -> None:
    with database.begin() as session:
        assert verify_chain(session).ok


TAMPERING: list[tuple[str, str, int, str]] = [
    ("edit-action", "UPDATE consent_events SET action = 'opt_in' WHERE id = 2", 2, "hash does not match"),
    ("edit-scope", "UPDATE consent_events SET sender_scope = '+18005550111' WHERE id = 4", 4, "hash does not match"),
    ("edit-time", "UPDATE consent_events SET created_at = created_at - INTERVAL '1 day' WHERE id = 1", 1, "hash does not match"),
    ("edit-number", "UPDATE consent_events SET number = '+14155550199' WHERE id = 3", 3, "number does not match"),
    ("fake-erasure", "UPDATE consent_events SET number = 'h:' || substr(subject, 1, 30) WHERE id = 3", 3, "without an erasure"),
    ("swap-explanation", "UPDATE consent_events SET explanation = (SELECT explanation FROM consent_events WHERE id = 1) WHERE id = 5",
     5, "explanation does not match"),
    ("delete-middle", "DELETE FROM consent_events WHERE id = 3", 4, "previous hash does not match"),
    ("delete-first", "DELETE FROM consent_events WHERE id = 1", 2, "previous hash does not match"),
    ("delete-newest", "DELETE FROM consent_events WHERE id = 5", 5, "the newest events were deleted"),
    ("rehash-one-row", "UPDATE consent_events SET hash = prev_hash WHERE id = 2", 2, "hash does not match"),
]


SUPPRESSION_TAMPERING: list[tuple[str, str, int, str]] = [
    ("points-nowhere", "UPDATE suppressions SET event_id = 99 WHERE event_id = 4", 99, "which is not in the ledger"),
    ("moved-to-another-sender", "UPDATE suppressions SET sender_scope = '+18005550111' WHERE event_id = 4", 4,
     "changed outside the ledger"),
    ("moved-to-another-number", "UPDATE suppressions SET number = '+14155550199' WHERE event_id = 5", 5,
     "changed outside the ledger"),
    ("forged-row", "INSERT INTO suppressions (number, sender_scope, topic, source, event_id, created_at) "
     "SELECT '+14155550199', sender_scope, topic, source, event_id, created_at FROM suppressions WHERE event_id = 4", 4,
     "changed outside the ledger"),
]
"""Suppression rows changed without the ledger: each still names an event, which no longer matches it."""


@pytest.mark.parametrize(
    ("statement", "broken_id", "reason", "of_events"),
    [(*row[1:], True) for row in TAMPERING] + [(*row[1:], False) for row in SUPPRESSION_TAMPERING],
    ids=[row[0] for row in TAMPERING] + [f"suppression-{row[0]}" for row in SUPPRESSION_TAMPERING],
)
def test_tampering_is_found(database: Database, statement: str, broken_id: int, reason: str, of_events: bool) -> None:
    fill(database)
    if database.dialect == "sqlite":
        statement = statement.replace("created_at - INTERVAL '1 day'", "datetime(created_at, '-1 day')")
    with database.begin() as session:
        if of_events:
            # Suppressions point at events by id; a tamperer deleting events would not care about them.
            session.execute(text("DELETE FROM suppressions"))
        session.execute(text(statement))
    with database.begin() as session:
        result = verify_chain(session)
    assert not result.ok
    assert result.first_broken_id == broken_id
    assert reason in (result.reason or "")


def test_the_chain_continues_after_tampering_is_found(database: Database) -> None:
    """Appends after a check still chain on the head; the broken link stays reported."""
    fill(database, 2)
    with database.begin() as session:
        session.execute(text("UPDATE consent_events SET rule = 'START' WHERE id = 1"))
    fill(database, 1)
    with database.begin() as session:
        result = verify_chain(session)
    assert (result.ok, result.first_broken_id) == (False, 1)


def test_the_chain_holds_no_readable_number_or_text(database: Database) -> None:
    fill(database, 1)
    with database.begin() as session:
        subject, explanation, digest = session.execute(text("SELECT subject, explanation, content_digest FROM consent_events")).one()
    assert subject == crypto.current().digest("+14155550100")
    assert "stop please" not in explanation and crypto.is_ciphertext(explanation)
    assert len(digest) == 64


def test_legacy_events_are_sealed_by_the_next_append(database: Database) -> None:
    """Events from before migration 0003 (no hashes) are chained once, then verify."""
    fill(database, 3)
    with database.begin() as session:
        session.execute(text("UPDATE consent_events SET subject = NULL, content_digest = NULL, prev_hash = NULL, hash = NULL"))
        session.execute(text("UPDATE ledger_head SET last_hash = NULL"))
    with database.begin() as session:
        assert verify_chain(session).reason == "event is not chained (run `flask ledger seal`)"
    fill(database, 1)
    with database.begin() as session:
        result = verify_chain(session)
    assert (result.ok, result.checked) == (True, 4)


@pytest.mark.parametrize(
    ("tamper", "exit_code", "says"),
    [(None, 0, "ok: 5 events"), ("UPDATE consent_events SET topic = 'x' WHERE id = 3", 1, "BROKEN at event 3")],
    ids=["intact", "edited"],
)
def test_cli_verify(database: Database, runner: FlaskCliRunner, tamper: str | None, exit_code: int, says: str) -> None:
    fill(database)
    if tamper:
        with database.begin() as session:
            session.execute(text(tamper))
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == exit_code, result.output
    assert says in result.output
