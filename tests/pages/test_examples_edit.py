"""keywords/examples_edit.py: a false positive becomes a must-not-match example, the file's layout kept."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
import yaml

from keywords import RulesHolder, load_rules
from keywords.examples_edit import EditRefused, _append, add_none_example, add_none_example_to_file
from tests.conftest import KEYWORDS_FILE

ORIGINAL = KEYWORDS_FILE.read_text(encoding="utf-8")


def _changes(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines between two texts; every other line is kept as it was."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


@pytest.mark.parametrize(
    ("source", "value", "expected"),
    [
        ("a:\n  none: [x, y]\n", "it's", 'a:\n  none: [x, y, "it\'s"]\n'),
        ("a:\n  none: []\n", "z", 'a:\n  none: ["z"]\n'),
        ("a:\n  none:\n    - x\n    - y\nb: 1\n", "z", 'a:\n  none:\n    - x\n    - y\n    - "z"\nb: 1\n'),
        ("a:\n  none:\n  - x  # why\n", 'say "no"', 'a:\n  none:\n  - x  # why\n  - "say \\"no\\""\n'),
        ("a:\r\n  none:\r\n    - x\r\n", "z", 'a:\r\n  none:\r\n    - x\r\n    - "z"\r\n'),
        ("a:\n  none:\n    - x", "z", 'a:\n  none:\n    - x\n    - "z"\n'),
        ("a:\n  none: [x,\n    # comment\n    y]\n", "z", 'a:\n  none: [x,\n    # comment\n    y, "z"]\n'),
    ],
    ids=["flow", "empty-flow", "block", "block-with-comment-and-quotes", "crlf", "no-final-newline", "multi-line-flow"],
)
def test_append_keeps_the_layout(source: str, value: str, expected: str) -> None:
    root = yaml.compose(source)
    sequence = root.value[0][1].value[0][1]
    edited = _append(source, sequence, value)
    assert edited == expected
    assert yaml.safe_load(edited)["a"]["none"][-1] == value


def test_a_fuzzy_false_positive_is_added_with_its_typo_word_protected() -> None:
    rules = load_rules(KEYWORDS_FILE)
    decision = rules.classify("Stoo")
    assert (decision.intent, decision.tier) == ("opt_out", "fuzzy")
    edit = add_none_example(ORIGINAL, "Stoo")
    assert edit.protected == [("en", "stoo")]
    removed, added = _changes(ORIGINAL, edit.text)
    assert len(removed) == 1 and removed[0].strip().startswith("protected: [quite")
    assert added == [removed[0][:-1] + ', "stoo"]', '    - "Stoo"']
    from keywords import parse_rules

    assert parse_rules(edit.text).classify("Stoo").intent == "none"
    assert parse_rules(edit.text).classify("STOP").intent == "opt_out"


def test_a_message_no_rule_matches_is_added_alone() -> None:
    edit = add_none_example(ORIGINAL, "see you at the shop")
    assert edit.protected == []
    assert _changes(ORIGINAL, edit.text) == ([], ['    - "see you at the shop"'])


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("STOP", "exact rule 'STOP'"),
        ("stop texting me", "phrase rule"),
        ("I can't stop laughing", "already a must-not-match example"),
        ("   ", "1 to 300 characters"),
        ("x" * 301, "1 to 300 characters"),
    ],
    ids=["exact-keyword", "phrase", "already-there", "blank", "too-long"],
)
def test_refusals_say_why(message: str, reason: str) -> None:
    with pytest.raises(EditRefused, match=reason):
        add_none_example(ORIGINAL, message)


def test_the_file_is_replaced_atomically_and_a_refusal_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "keywords.yaml"
    path.write_text(ORIGINAL, encoding="utf-8")
    os.chmod(path, 0o640)
    holder = RulesHolder(path, check_interval=0.0)
    assert holder.current.classify("Stoo").intent == "opt_out"
    with pytest.raises(EditRefused):
        add_none_example_to_file(path, "STOP")
    assert path.read_text(encoding="utf-8") == ORIGINAL
    edit = add_none_example_to_file(path, "Stoo")
    assert path.read_text(encoding="utf-8") == edit.text
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".keywords.yaml.lock")) == ["keywords.yaml"]
    assert holder.current.classify("Stoo").intent == "none", "the running server's holder reloads the edit"
    assert holder.current.version == edit.version


def test_an_edit_that_breaks_another_example_is_refused_with_the_checks_reason() -> None:
    # Staff once wrote that "Stoo" must opt out: protecting the word would break that example.
    marker = "    [STOP, stop please,"
    assert ORIGINAL.count(marker) == 1
    text = ORIGINAL.replace(marker, "    [STOP, Stoo, stop please,")
    with pytest.raises(EditRefused, match=r"(?s)would be refused.*'Stoo' should be opt_out but is none"):
        add_none_example(text, "Stoo please")
