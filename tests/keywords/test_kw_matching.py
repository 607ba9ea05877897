"""Tier and tie-break table (see keywords/matcher.py): one row per documented rule."""

from __future__ import annotations

import pytest
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from keywords import Rules
from keywords.fuzzy import accepts
from keywords.hits import OPT_OUT_SECTIONS
from keywords.matcher import FUZZY_PRIORITY
from keywords.normalize import squeeze
from keywords.typos import FIRST_LETTER_FROM, NEIGHBOURS

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
    ("YES", "opt_in", "sender", "exact", False),
    ("yes please", "opt_in", "sender", "courtesy", False),
    ("STOP YES", "opt_out", "sender", "courtesy", False),
    ("YESS", "none", "sender", None, False),
    ("JOIN", "opt_in", "sender", "exact", False),
    ("JOIN STOP", "opt_out", "sender", "courtesy", False),
    ("JION", "none", "sender", None, False),
    # issue 12 turned these three from none: a bare "subscribe" and a typo of START are opt_in with
    # action ask (test_kw_request.py checks the action), a HELP with swapped letters is help
    ("SUBSCRIBE", "opt_in", "sender", "exact", False),
    ("STRAT", "opt_in", "sender", "fuzzy", True),
    ("SUBSCIBE", "opt_in", "sender", "fuzzy", True),  # a sign-up word of six letters or more, typed: ask
    ("HLEP", "help", "sender", "fuzzy", True),
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


def _fuzzy_by_full_scan(rules: Rules, word: str) -> tuple[str, int] | None:
    """The fuzzy tier written plainly, scanning every keyword of every nearby length with rapidfuzz."""
    m, fz = rules.matcher, rules.matcher.settings.fuzzy
    if len(word) < 3 or word in m.never_fuzzy:
        return None
    candidates = [(same, 0)] if (same := m.squeezed.get(squeeze(word))) else []
    for size in range(len(word) - 2, len(word) + 3):
        budget = fz.budget(size)
        for key, dist, _ in process.extract(word, m.fuzzy_buckets.get(size, []) if budget else [],
                                            scorer=OSA.distance, score_cutoff=budget, limit=None):
            hit = m.fuzzy_hits[key]
            if (word[0] == key[0] or word[1::-1] == key[:2]) and (
                    size >= fz.typo_model_below or accepts(hit, word, key, fz.drop_letter_from)):
                candidates.append((key, int(dist)))
            elif (hit.intent in OPT_OUT_SECTIONS and len(word) == size and FIRST_LETTER_FROM <= size
                  < fz.typo_model_below and word[1:] == key[1:] and key[0] in NEIGHBOURS.get(word[0], ())):
                candidates.append((key, int(dist)))  # a neighbouring key for the first letter ("DTOP")
    ranked = [((dist, -fuzz.ratio(word, key), FUZZY_PRIORITY.get(m.fuzzy_hits[key].intent, 9), i), key)
              for i, (key, dist) in enumerate(candidates) if not dist or fuzz.ratio(word, key) >= fz.min_score]
    return (min(ranked)[1], min(ranked)[0][0]) if ranked else None


def _near_misses(rules: Rules) -> list[str]:
    words = []
    for key in sorted(rules.matcher.fuzzy_hits):
        words += [key[:i] + key[i + 1 :] for i in range(len(key))]                  # dropped
        words += [key[:i] + key[i + 1] + key[i] + key[i + 2 :] for i in range(len(key) - 1)]  # swapped
        words += [key[:i] + c + key[i:] for i in range(len(key) + 1) for c in "aeost"]  # inserted
    return words


def test_fuzzy_index_finds_what_a_full_scan_finds(rules: Rules) -> None:
    """The first-letter index is only a shortcut: same keyword and distance as scanning everything."""
    for word in _near_misses(rules):
        found = rules.matcher.fuzzy(word)
        assert (None if found is None else (found[1].rule, found[0][0])) == (
            None if (plain := _fuzzy_by_full_scan(rules, word)) is None
            else (rules.matcher.fuzzy_hits[plain[0]].rule, plain[1])), word
