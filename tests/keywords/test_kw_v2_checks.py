"""python -m keywords check on the issue 12 sections: each refusal with its file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from keywords import load_rules
from tests.keywords.files import MINIMAL, assert_refused, write

# The minimal file with the v2 sections added; each refusal below breaks one thing in it.
V2 = MINIMAL.replace("""    courtesy: [please]
""", """    courtesy: [please]
    request: [i want to, me, now]
    objects: [texts]
    with_object: [no more]
    keep: [keep]
    conjunctions: [but]
    inflections: {OPT OUT: [opting out]}
""").replace("""    help:
      keywords: [HELP]
""", """    help:
      keywords: [HELP]
    ask:
      keywords: [SUBSCRIBE]
""").replace("""      help: "{brand}: help at {contact}. {frequency}. Msg&data rates may apply. Reply STOP to stop."
""", """      help: "{brand}: help at {contact}. {frequency}. Msg&data rates may apply. Reply STOP to stop."
      ask: "{brand}: reply START to get our texts again."
""").replace("  none: [hello]", "  ask: [subscribe]\n  none: [hello, stop texting me but keep the deals]")


def test_minimal_file_with_v2_sections_loads(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, V2))
    assert [rules.classify(t).kind for t in ("I want to quit now", "opting out now", "no more texts", "subscribe")] == [
        "opt_out", "opt_out", "opt_out", "ask"]
    assert rules.classify("opting out now").matched == "optingout"


REFUSALS = [
    pytest.param("request: [i want to, me, now]", "request: [i want to, me, now, stop now]", "stop now",
                 "request word 'stop now' contains 'stop', the opt_out keyword on line", id="request-word-is-a-keyword"),
    pytest.param("request: [i want to, me, now]", "request: [i want to, me, now, optout]", "optout]",
                 "request word 'optout' contains 'optout', the opt_out keyword on line", id="request-word-is-a-two-word-keyword"),
    pytest.param("request: [i want to, me, now]", "request: [i want to, me, now]\n    qualifiers: [about, stop]", "qualifiers:",
                 "qualifier 'stop' contains 'stop', the opt_out keyword on line", id="qualifier-is-a-keyword"),
    pytest.param("    courtesy: [please]", "    courtesy: [please]\n    guards: [please]", "guards: [please]",
                 "guard 'please' cancels the shipped opt-out example 'please stop texting me'", id="guard-cancels-example"),
    pytest.param("inflections: {OPT OUT: [opting out]}", "inflections: {OPT IN: [opting in]}", "opting in",
                 "inflections: 'OPT IN' is not a keyword of languages.en", id="inflection-of-no-keyword"),
    pytest.param('ask: "{brand}: reply START to get our texts again."', 'ask: "{brand}: we will ask you again."',
                 'ask: "', "does not say how to re-subscribe (name an opt_in keyword such as START)",
                 id="ask-reply-without-start"),
    pytest.param('      ask: "{brand}: reply START to get our texts again."\n', "", "  en:",
                 "languages.en has no ask reply", id="ask-keywords-without-reply"),
    pytest.param("    keep: [keep]", "    keep: [keep]\n    kept: [x]", "kept", "unknown field 'kept'",
                 id="unknown-v2-field"),
    pytest.param("keywords: [SUBSCRIBE]", "keywords: [SUBSCRIBE, UNSUBSCRIBD]", "UNSUBSCRIBD",
                 "ask keyword 'UNSUBSCRIBD' is 1 edit(s) from opt_out keyword 'UNSUBSCRIBE'", id="ask-a-typo-from-an-opt-out"),
]


@pytest.mark.parametrize(("old", "new", "needle", "reason"), REFUSALS)
def test_refusal(tmp_path: Path, old: str, new: str, needle: str, reason: str) -> None:
    base = V2.replace("  opt_out: [STOP]", "  opt_out: [STOP, please stop texting me]")
    assert_refused(tmp_path, base, old, new, needle, reason)
