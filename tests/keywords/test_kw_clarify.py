"""The opt-out scope clarification replies (issue 4): opt_out_clarify asks, opt_out_narrowed confirms an answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from keywords import Rules, load_rules
from tests.keywords.files import MINIMAL, assert_refused, write

LISTED = "1 offers, 2 news, 3 events"

# 146 characters as written, 164 with the topics filled in: two segments, which the check must see.
CLARIFY = ('      opt_out_clarify: {text: "{brand}: all stopped. If you do not reply, it stays so. To stop only some '
           'topics, reply with their numbers: {topics}. Reply START to resubscribe now.", max_segments: 2}\n')
NARROWED = '      opt_out_narrowed: "{brand}: no more {topics} messages. Reply STOP to stop all."\n'
ANCHOR = '      help: "{brand}: help at {contact}. {frequency}. Msg&data rates may apply. Reply STOP to stop."\n'
WITH_BOTH = MINIMAL.replace(ANCHOR, ANCHOR + CLARIFY + NARROWED)


def test_every_shipped_language_asks_and_confirms(rules: Rules) -> None:
    for language in rules.languages:
        asked = rules.reply("opt_out_clarify", language, None, topics=LISTED)
        narrowed = rules.reply("opt_out_narrowed", language, None, topics="news")
        assert asked and LISTED in asked and "Acme Outlet" in asked and "{" not in asked, language
        assert narrowed and "news" in narrowed and "Acme Outlet" in narrowed and "{" not in narrowed, language


def test_the_english_question_says_what_the_rule_asks_for(rules: Rules) -> None:
    text = rules.reply("opt_out_clarify", "en", None, topics=LISTED) or ""
    assert text == ("Acme Outlet: All our messages are stopped. If you do not reply, it stays that way. To stop only "
                    "some topics, reply with their numbers or names: 1 offers, 2 news, 3 events. "
                    "Reply START to resubscribe.")
    assert rules.reply("opt_out_narrowed", "en", None, topics="news") == (
        "Acme Outlet: you will no longer get news messages. Reply STOP to stop all.")


def test_per_sender_brand_and_language(rules: Rules) -> None:
    # +18005550199 answers in Spanish under its own brand when the message's language is unknown.
    text = rules.reply("opt_out_clarify", None, "+18005550199", topics=LISTED) or ""
    assert text.startswith("Acme Outlet Latino: ") and "ALTA" in text


def test_topics_go_with_these_kinds_only(rules: Rules) -> None:
    with pytest.raises(ValueError):
        rules.reply("opt_out_clarify", "en", None)
    with pytest.raises(ValueError):
        rules.reply("opt_out", "en", None, topics=LISTED)


def test_a_language_without_them_falls_back(tmp_path: Path) -> None:
    spanish = '''  es:
    opt_out:
      keywords: [BAJA]
    opt_out_all:
      keywords: [BAJA TODO]
    opt_in:
      keywords: [ALTA]
    help:
      keywords: [AYUDA]
    rates: Pueden aplicar tarifas
    frequency: Frecuencia variable
    replies:
      opt_out: "{brand}: baja. Responde ALTA para volver."
      opt_out_all: "{brand}: baja de todo. Responde ALTA para volver."
      opt_in: "{brand}: alta. {frequency}. Pueden aplicar tarifas. Responde BAJA para salir, AYUDA para ayuda."
      help: "{brand}: ayuda {contact}. {frequency}. Pueden aplicar tarifas. Responde BAJA para salir."
examples:'''
    rules = load_rules(write(tmp_path, WITH_BOTH.replace("examples:", spanish, 1)))
    assert rules.reply("opt_out_clarify", "es", None, topics="1 a, 2 b") == rules.reply(
        "opt_out_clarify", "en", None, topics="1 a, 2 b")
    assert load_rules(write(tmp_path, MINIMAL)).reply("opt_out_clarify", "en", None, topics="1 a, 2 b") is None


def test_the_test_file_passes(tmp_path: Path) -> None:
    assert load_rules(write(tmp_path, WITH_BOTH)).reply("opt_out_narrowed", "en", None, topics="b") == (
        "Acme: no more b messages. Reply STOP to stop all.")


REFUSED = [
    pytest.param("{topics}. Reply START", "1 2 3. Reply START", "opt_out_clarify:",
                 "does not list the topics (use {topics})", id="clarify-without-topics"),
    pytest.param("{brand}: all stopped", "All stopped", "opt_out_clarify:",
                 "does not name the brand 'Acme'", id="clarify-without-brand"),
    pytest.param("Reply START to resubscribe now.", "Bye.", "opt_out_clarify:",
                 "does not say how to re-subscribe (name an opt_in keyword such as START)", id="clarify-without-start"),
    pytest.param("Reply STOP to stop all.", "Thanks.", "opt_out_narrowed:",
                 "does not say how to stop everything (name an opt_out keyword such as STOP)",
                 id="narrowed-without-stop"),
    pytest.param("no more {topics} messages", "no more messages", "opt_out_narrowed:",
                 "does not list the topics (use {topics})", id="narrowed-without-topics"),
    pytest.param("it stays so.", "see acme.com.", "opt_out_clarify:",
                 "contains a link; an opt-out confirmation must not", id="clarify-with-link"),
    pytest.param("it stays so.", "big sale today.", "opt_out_clarify:",
                 "contains promotional wording (sale)", id="clarify-marketing"),
    pytest.param(", max_segments: 2}", "}", "opt_out_clarify:",
                 "with {topics} as '1 offers, 2 news, 3 events', GSM-7, 2 SMS segments but the file allows 1",
                 id="clarify-measured-with-the-list"),
    pytest.param("unsubscribed. Reply", "unsubscribed from {topics}. Reply", "opt_out: \"",
                 "opt_out reply uses unknown placeholder(s) topics", id="topics-in-another-kind"),
    pytest.param(NARROWED, "", "opt_out_clarify:",
                 "has opt_out_clarify but no opt_out_narrowed reply (the two go together)", id="clarify-alone"),
]


@pytest.mark.parametrize(("old", "new", "needle", "reason"), REFUSED)
def test_refused(tmp_path: Path, old: str, new: str, needle: str, reason: str) -> None:
    assert_refused(tmp_path, WITH_BOTH, old, new, needle, reason)
