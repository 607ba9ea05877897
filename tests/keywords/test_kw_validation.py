"""Each refusal a compliance officer can meet, with its file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from keywords import RulesError, load_rules
from tests.keywords.files import MINIMAL, assert_refused, line_of, refusal, write

def test_minimal_file_loads(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, MINIMAL))
    assert rules.classify("stop please").intent == "opt_out"


CASES = [
    pytest.param("    courtesy: [please]", "    courtesy: [please]\n    colour: red", "colour",
                 "unknown field 'colour'", id="unknown-field"),
    pytest.param("  default:\n", "  default:\n    brnad: Acme\n", "brnad", "unknown field 'brnad'", id="unknown-sender-field"),
    pytest.param("keywords: [START]", "keywords: [START, '']", "keywords: [START, '']", "must not be empty",
                 id="empty-keyword"),
    pytest.param("keywords: [START]", "keywords: [START, '!!!']", "'!!!'", "empty after normalisation",
                 id="keyword-only-punctuation"),
    pytest.param("keywords: [HELP]", "keywords: [HELP, S.T.O.P]", "S.T.O.P",
                 "is a help keyword here and an opt_out keyword", id="same-keyword-two-intents"),
    pytest.param("keywords: [START]", "keywords: [START, STOW]", "STOW",
                 "opt_in keyword 'STOW' is 1 edit(s) from opt_out keyword 'STOP'", id="fuzzy-collision"),
    pytest.param("courtesy: [please]", "courtesy: [please, stop]", "courtesy: [please, stop]",
                 "courtesy word 'stop' is also the opt_out keyword", id="courtesy-is-keyword"),
    pytest.param("[STOP, QUIT, END,", "[STOP, END,", "[STOP, END,", "FCC opt-out word 'quit'",
                 id="fcc-word-missing"),
    pytest.param('help: "{brand}: help at {contact}. {frequency}. Msg&data rates may apply. Reply STOP to stop."',
                 'help: "{brand}: help at {contact}. {frequency}. Msg&data rates may apply. Reply STOP to stop. ' + "Really, " * 20 + '"',
                 "help: ", "2 SMS segments but the file allows 1", id="reply-too-long"),
    pytest.param('opt_out: "{brand}: unsubscribed. Reply START to resubscribe."',
                 'opt_out: "{brand}: unsubscribed. Reply START to resubscribe. bit.ly/x"',
                 "opt_out: ", "contains a link", id="link-in-opt-out"),
    pytest.param('opt_out: "{brand}: unsubscribed. Reply START to resubscribe."',
                 'opt_out: "{brand}: unsubscribed. Reply START to resubscribe. Free gift!"',
                 "opt_out: ", "promotional wording (free)", id="promo-in-opt-out"),
    pytest.param('opt_out: "{brand}: unsubscribed. Reply START to resubscribe."',
                 'opt_out: "{brand}: unsubscribed. Reply START for 20% off"', "opt_out: ",
                 "promotional wording (%)", id="percent-off-in-opt-out"),
    pytest.param('opt_out: "{brand}: unsubscribed. Reply START to resubscribe."',
                 'opt_out: "You are unsubscribed. Reply START to resubscribe."', "opt_out: ",
                 "does not name the brand 'Acme'", id="opt-out-without-brand"),
    pytest.param('opt_out: "{brand}: unsubscribed. Reply START to resubscribe."',
                 'opt_out: "{brand}: unsubscribed."', "opt_out: ", "does not say how to re-subscribe",
                 id="opt-out-without-resubscribe"),
    pytest.param('help: "{brand}: help at {contact}. {frequency}. Msg&data rates may apply. Reply STOP to stop."',
                 'help: "{brand}: help at {phone}. Reply STOP to stop."', "help: ",
                 "unknown placeholder(s) phone", id="unknown-placeholder"),
    pytest.param("  none: [hello]", "  none: [hello, stop please]", "none: [hello, stop please]",
                 "example 'stop please' should be none but is opt_out", id="failing-example"),
    pytest.param("  opt_out: [STOP]", "  opt_out: [STOP, bus stop]", "opt_out: [STOP, bus stop]",
                 "example 'bus stop' should be opt_out but is none", id="failing-opt-out-example"),
    pytest.param("    language: en", "    language: xx", "language: xx", "language 'xx' is not in languages",
                 id="unknown-sender-language"),
    pytest.param("examples:", "examples:\n  maybe: [x]", "maybe", "unknown field 'maybe' in examples", id="unknown-example-intent"),
    pytest.param("help:\n      keywords: [HELP]", "help:\n      keywords: [HELP]\n      phrases: [help me]",
                 "phrases: [help me]", "unknown field 'phrases' in languages.en.help", id="help-has-no-phrases"),
    pytest.param("    courtesy: [please]", "    courtesy: [please]\n    courtesy: [thanks]", "courtesy: [thanks]",
                 "duplicate key 'courtesy' (first on line", id="duplicate-key"),
    pytest.param("  none: [hello]", "  none: [hello]\n   bad: indent", "bad: indent", "not valid YAML", id="broken-yaml"),
    pytest.param("\nlanguages:", "\nbrands:\n  a:\n    senders: ['+18005550100']\n  b:\n    senders: [\"+18005550100\"]\nlanguages:",
                 'senders: ["+18005550100"]', "is in brands a and b", id="brand-sender-twice"),
    pytest.param("\nlanguages:", "\nbrands:\n  a:\n    senders: ['+18005550100']\n    reach: everyone\nlanguages:",
                 "reach: everyone", "reach must be one of number, brand, account", id="brand-unknown-reach"),
    pytest.param("\nlanguages:", "\nbrands:\n  a:\n    senders: ['+18005550100']\n    account_from: soon\nlanguages:",
                 "account_from: soon", "must be a date such as 2027-01-31", id="brand-bad-switch-date"),
    pytest.param("\nlanguages:", "\nbrands:\n  a:\n    reach: brand\nlanguages:",
                 "  a:", "brands.a.senders must list at least one sender", id="brand-without-senders"),
]


@pytest.mark.parametrize(("old", "new", "needle", "reason"), CASES)
def test_refusal(tmp_path: Path, old: str, new: str, needle: str, reason: str) -> None:
    assert_refused(tmp_path, MINIMAL, old, new, None if needle == "[STOP, END," else needle, reason)


def test_max_segments_allows_long_reply(tmp_path: Path) -> None:
    long = 'help: {text: "{brand}: help at {contact}. {frequency}. Msg&data rates may apply. Reply STOP to stop. ' + "Really, " * 20 + '", max_segments: 2}'
    text = MINIMAL.replace('help: "{brand}: help at {contact}. {frequency}. Msg&data rates may apply. Reply STOP to stop."', long)
    rules = load_rules(write(tmp_path, text))
    assert len(rules.reply("help", "en", None) or "") > 160


def test_error_renders_file_line_reason(tmp_path: Path) -> None:
    error = refusal(tmp_path, MINIMAL.replace("    courtesy: [please]", "    courtesy: [please]\n    colour: red"))
    first = str(error).splitlines()[0]
    line = line_of(MINIMAL, "courtesy: [please]") + 1
    assert first.startswith(f"{tmp_path / 'keywords.yaml'}:{line}: unknown field 'colour'")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError) as info:
        load_rules(tmp_path / "nope.yaml")
    assert "cannot read" in str(info.value)


def test_lint_runs_per_brand(tmp_path: Path) -> None:
    text = MINIMAL.replace("    language: en\n", "    language: en\n  '12345':\n    brand: " + "Long Brand " * 10 + "\n", 1)
    error = refusal(tmp_path, text)
    assert any("for sender 12345" in r and "SMS segments" in r for _, _, r in error.problems), str(error)


def test_sender_override_reply(tmp_path: Path) -> None:
    text = MINIMAL.replace("    language: en\n", "    language: en\n  'MG123':\n    brand: Zed\n    replies:\n"
                           "      en:\n        help: \"{brand} help: {contact}. {frequency}. Msg&data rates may apply. STOP to end.\"\n", 1)
    rules = load_rules(write(tmp_path, text))
    assert rules.reply("help", "en", "MG123") == "Zed help: 1-800-555-0100. Msg freq varies. Msg&data rates may apply. STOP to end."
    assert rules.reply("opt_out", "en", "MG123") == "Zed: unsubscribed. Reply START to resubscribe."
    assert rules.reply("help", "en", "+15550000000") == "Acme: help at 1-800-555-0100. Msg freq varies. Msg&data rates may apply. Reply STOP to stop."
