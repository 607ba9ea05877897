"""An import's events hashed in a helper process are exactly the ones this process would hash."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from storage.ledger.import_chain import ChainStart, Hashing, HelperFailed

SENDER = "+18005550199"
START = ChainStart(head_id=41, head_hash="ab" * 32, batch="0123456789ab", source="import", note='crm "export" \\ v2',
                   actor="ops", created=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc))
ROWS = [(line, f"+1415555{line:04d}", SENDER if line % 2 else "*", "promos" if line % 3 else "*") for line in range(2, 60)]
# One row already suppressed for good (changed: no), one paused (changed: yes, made permanent).
EXISTING = {ROWS[0][1:]: None, ROWS[1][1:]: datetime(2030, 1, 1, tzinfo=timezone.utc)}


def test_the_helper_chains_exactly_like_this_process() -> None:
    with Hashing(START, helper=False) as here:
        expected = list(here.events(ROWS, EXISTING))
    with Hashing(START, helper=True) as helper:
        assert helper.process is not None
        got = list(helper.events(ROWS, EXISTING))
    assert got == expected
    assert (helper.chain.last_id, helper.chain.last_hash) == (here.chain.last_id, here.chain.last_hash) == (41 + len(ROWS), expected[-1][8])
    assert [event[4] for event in expected[:3]] == [0, 1, 1]


def test_a_helper_that_dies_fails_the_import() -> None:
    with Hashing(START, helper=True) as helper:
        assert helper.process is not None
        helper.process.kill()
        helper.process.wait()
        with pytest.raises(HelperFailed):
            list(helper.events(ROWS, {}))
