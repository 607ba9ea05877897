"""The public interface the gateway codes against."""

from __future__ import annotations

import dataclasses

import pytest

from keywords import Decision, Rules


def test_classify_returns_explainable_decision(rules: Rules) -> None:
    d = rules.classify("STOP")
    assert isinstance(d, Decision)
    assert (d.intent, d.scope, d.tier, d.score, d.needs_review) == ("opt_out", "sender", "exact", 100.0, False)
    assert d.to_dict()["rule"] == "STOP"
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.intent = "none"  # type: ignore[misc]


@pytest.mark.parametrize("text", ["STOP", "JOIN", "YES", "stpo", "I can't stop laughing", ""])
def test_decision_dict_has_every_field(rules: Rules, text: str) -> None:
    d = rules.classify(text)
    assert d.to_dict() == dataclasses.asdict(d)


def test_version_is_content_hash(rules: Rules) -> None:
    assert rules.version.startswith("sha256:") and len(rules.version) == 7 + 16


@pytest.mark.parametrize(
    ("text", "intent", "scope"),
    [
        pytest.param("STOPALL", "opt_out", "all", id="stopall"),
        pytest.param("START", "opt_in", "sender", id="start"),
        pytest.param("HELP", "help", "sender", id="help"),
        pytest.param("YES", "opt_in", "sender", id="yes-is-opt-in-confirm"),
        pytest.param("JOIN", "opt_in", "sender", id="join-is-opt-in-join"),
    ],
)
def test_intents(rules: Rules, text: str, intent: str, scope: str) -> None:
    d = rules.classify(text)
    assert (d.intent, d.scope) == (intent, scope)


def test_reply_fills_brand_and_falls_back(rules: Rules) -> None:
    text = rules.reply("opt_out", "en", None)
    assert text is not None and "Acme Outlet" in text and "{" not in text
    assert rules.reply("help", "xx", "+18005550199") == rules.reply("help", "es", "+18005550199")
    assert rules.reply("help", None, "unknown") == rules.reply("help", "en", None)


def test_reply_for_decision(rules: Rules) -> None:
    assert rules.reply_for(rules.classify("hello there"), None) is None
    assert rules.reply_for(rules.classify("STOPALL"), None) == rules.reply("opt_out_all", "en", None)


def test_reply_for_double_opt_in_decisions(rules: Rules) -> None:
    assert rules.reply_for(rules.classify("JOIN"), None) == rules.reply("join", "en", None)
    assert rules.reply_for(rules.classify("YES"), None) == rules.reply("confirm", "en", None)
    assert rules.reply_for(rules.classify("START"), None) == rules.reply("opt_in", "en", None)


def test_reply_unknown_kind_raises(rules: Rules) -> None:
    with pytest.raises(ValueError):
        rules.reply("opt_out_everything", "en", None)
