"""The held-out test set (corpus/test.tsv): never tuned on; the acceptance figures of the keyword engine.

Rows are only ever added (the before-stop hook checks it). While keyword engine v2 (issue 12)
is being built the figures are below target: those tests are strict xfails, so the day the
engine reaches a target its test fails until the xfail is removed, and never passes silently.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from keywords import Rules
from keywords.evaluate import Report, evaluate, explain, load_corpus

TEST_SET = Path(__file__).parent / "corpus" / "test.tsv"
ROWS = load_corpus(TEST_SET)
ENGINE_V2 = pytest.mark.xfail(strict=True, reason="issue 12: keyword engine v2 not yet reached this figure")


@pytest.fixture(scope="module")
def report(rules: Rules) -> Report:
    return evaluate(rules, ROWS)


def test_the_test_set_is_big_and_hard_enough() -> None:
    assert len(ROWS) >= 2000
    assert sum(1 for row in ROWS if row.intent == "none" and "hard-negative" in row.note) >= 500
    messy = ("multi-sentence", "slang", "romanised", "mixed", "txt-speak")
    assert sum(1 for row in ROWS if any(tag in row.note for tag in messy)) >= 400
    per_language = Counter(row.language for row in ROWS)
    assert len(per_language) >= 40
    assert min(per_language.values()) >= 25, per_language.most_common()[-5:]


def test_every_row_is_unique_per_language() -> None:
    seen = Counter((row.message, row.language) for row in ROWS)
    assert [key for key, count in seen.items() if count > 1] == []


@ENGINE_V2
def test_no_false_opt_outs(report: Report) -> None:
    assert not report.false_opt_outs, "\n".join(explain(row, d) for row, d in report.false_opt_outs)


@ENGINE_V2
def test_opt_out_recall_overall(report: Report) -> None:
    assert report.recall["opt_out"].recall >= 0.98


@ENGINE_V2
def test_opt_out_recall_in_every_language(report: Report) -> None:
    low = {language: round(tallies["opt_out"].recall, 3) for language, tallies in report.by_language.items()
           if tallies["opt_out"].recall < 0.90}
    assert low == {}


# help fell below 0.95 (0.939) when the blind rows of 2026-12-03 joined the test set.
@pytest.mark.parametrize("intent", [pytest.param("opt_in", marks=ENGINE_V2), pytest.param("help", marks=ENGINE_V2)])
def test_opt_in_and_help_recall(report: Report, intent: str) -> None:
    assert report.recall[intent].recall >= 0.95
