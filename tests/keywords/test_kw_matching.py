"""Tier and tie-break table (see keywords/matcher.py): one row per documented rule."""

from __future__ import annotations

import pytest

from keywords import Rules

CASES = [
    # text, intent, scope, tier, needs_review
    ("STOP", "opt_out", "sender", "exact", False),
    ("stop please", "opt_out", "sender", "courtesy", False),
    ("STOP STOP", "opt_out", "sender", "courtesy", False),
    ("стоп пожалуйста", "opt_out", "sender", "courtesy", False),
    ("stop texting me", "opt_out", "sender", "phrase", True),
    ("отпишите меня", "opt_out", "sender", "phrase", True),
    ("quiero darme de baja", "opt_out", "sender", "phrase", True),
    ("ne plus recevoir", "opt_out", "sender", "phrase", True),
    ("STPO", "opt_out", "sender", "fuzzy", True),
    ("UNSUSCRIBE", "opt_out", "sender", "fuzzy", True),
    ("ОТПИСАТСЯ", "opt_out", "sender", "fuzzy", True),
    ("stpo please", "opt_out", "sender", "fuzzy", True),
    ("STOP START", "opt_out", "sender", "courtesy", False),
    ("START STOP", "opt_out", "sender", "courtesy", False),
    ("help stop", "opt_out", "sender", "courtesy", False),
    ("stop stopall", "opt_out", "all", "courtesy", False),
    ("STOPALL", "opt_out", "all", "exact", False),
    ("START", "opt_in", "sender", "exact", False),
    ("HELP", "help", "sender", "exact", False),
    ("YES", "none", "sender", None, False),
    ("SUBSCRIBE", "none", "sender", None, False),
    ("STRAT", "none", "sender", None, False),
    ("HLEP", "none", "sender", None, False),
    ("END", "opt_out", "sender", "exact", False),
    ("ENF", "none", "sender", None, False),
    ("don't stop texting me", "none", "sender", None, False),
    ("how do I unsubscribe from the email list?", "none", "sender", None, False),
    ("unsubscribe me from texts and emails", "opt_out", "sender", "phrase", True),
    ("can you stop texting me?", "opt_out", "sender", "phrase", True),
    ("I want to stop the sale texts. stop texting me", "opt_out", "sender", "phrase", True),
]


@pytest.mark.parametrize(("text", "intent", "scope", "tier", "review"), CASES, ids=[c[0] for c in CASES])
def test_tiers(rules: Rules, text: str, intent: str, scope: str, tier: str | None, review: bool) -> None:
    d = rules.classify(text)
    assert (d.intent, d.scope, d.tier, d.needs_review) == (intent, scope, tier, review), d.to_dict()


LANGUAGES = [
    ("BAJA", "es"), ("Отписаться", "ru"), ("STOP bitte", "de"), ("stop merci", "fr"),
    ("STOP", None), ("退订", "zh"), ("停止", None), ("配信停止", "ja"), ("إيقاف", "ar"), ("stop please", "en"),
]


@pytest.mark.parametrize(("text", "language"), LANGUAGES, ids=[t for t, _ in LANGUAGES])
def test_language(rules: Rules, text: str, language: str | None) -> None:
    assert rules.classify(text).language == language


def test_rule_is_written_as_in_file(rules: Rules) -> None:
    d = rules.classify("arret")
    assert d.rule == "ARRET" and d.normalized == "arret"


def test_fuzzy_score_is_rapidfuzz_ratio(rules: Rules) -> None:
    d = rules.classify("STPO")
    assert 0 < d.score < 100 and d.rule == "STOP"


def test_long_message_phrase_still_found(rules: Rules) -> None:
    text = "hello " * 50 + "please stop texting me"
    assert rules.classify(text).intent == "opt_out"
