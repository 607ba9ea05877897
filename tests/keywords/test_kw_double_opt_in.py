"""Double opt-in keywords (issue 4): JOIN asks for a YES, YES confirms; both are opt_in with an action."""

from __future__ import annotations

from pathlib import Path

import pytest

from keywords import Rules, load_rules
from tests.keywords.files import MINIMAL, assert_refused, write

# mailroom-style edge-case table: text, action (None: opt_in without one; "-": another intent), tier
CASES = [
    ("JOIN", "join", "exact"),
    ("join", "join", "exact"),
    ("Join!", "join", "exact"),
    ("J O I N", "join", "exact"),
    ("join please", "join", "courtesy"),
    ("YES", "confirm", "exact"),
    ("Y", "confirm", "exact"),
    ("yes.", "confirm", "exact"),
    ("ＹＥＳ", "confirm", "exact"),
    ("YES YES", "confirm", "courtesy"),
    ("yes please 👍🏽", "confirm", "courtesy"),
    ("SÍ", "confirm", "exact"),
    ("si", "confirm", "exact"),
    ("OUI", "confirm", "exact"),
    ("JA", "confirm", "exact"),
    ("SIM", "confirm", "exact"),
    ("TAK", "confirm", "exact"),
    ("ДА", "confirm", "exact"),
    ("ТАК", "confirm", "exact"),
    ("EVET", "confirm", "exact"),
    ("نعم", "confirm", "exact"),
    ("是", "confirm", "exact"),
    ("是的", "confirm", "exact"),
    ("はい", "confirm", "exact"),
    ("START", None, "exact"),
    ("UNSTOP", None, "exact"),
]


@pytest.mark.parametrize(("text", "action", "tier"), CASES, ids=[c[0] for c in CASES])
def test_join_and_confirm_are_opt_in_with_an_action(rules: Rules, text: str, action: str | None, tier: str) -> None:
    d = rules.classify(text)
    assert (d.intent, d.action, d.tier, d.needs_review) == ("opt_in", action, tier, False), d.to_dict()
    assert d.to_dict()["action"] == action


NEVER = [
    pytest.param("yes I'll be there at 5", "none", id="yes-in-a-sentence"),
    pytest.param("is that a yes?", "none", id="yes-as-a-word"),
    pytest.param("YESS", "none", id="no-typos-yes"),
    pytest.param("YSE", "none", id="no-typos-swapped"),
    pytest.param("JION", "none", id="no-typos-join"),
    pytest.param("join us tomorrow at the store", "none", id="join-in-a-sentence"),
    pytest.param("да, буду в пять", "none", id="da-in-a-sentence"),
    pytest.param("STOP YES", "opt_out", id="stop-wins-over-yes"),
    pytest.param("YES STOP", "opt_out", id="stop-wins-after-yes"),
    pytest.param("JOIN STOP", "opt_out", id="stop-wins-over-join"),
    pytest.param("", "none", id="empty"),
]


@pytest.mark.parametrize(("text", "intent"), NEVER)
def test_not_a_join_or_confirm(rules: Rules, text: str, intent: str) -> None:
    d = rules.classify(text)
    assert (d.intent, d.action) == (intent, None), d.to_dict()


def test_replies_for_every_language(rules: Rules) -> None:
    for language in rules.languages:
        join, confirm = rules.reply("join", language, None), rules.reply("confirm", language, None)
        assert join and confirm and join != confirm and "Acme Outlet" in join, language


def test_join_reply_says_how_to_confirm_stop_and_get_help(rules: Rules) -> None:
    text = rules.reply("join", "en", None) or ""
    assert all(word in text for word in ("Acme Outlet", "YES", "STOP", "HELP", "Msg&data rates may apply"))
    assert "STOP" in (rules.reply("confirm", "en", None) or "")


# The minimal file with double opt-in added; each refusal below breaks one thing in it.
WITH_DOI = MINIMAL.replace("""    help:
      keywords: [HELP]
""", """    help:
      keywords: [HELP]
    join:
      keywords: [JOIN]
    confirm:
      keywords: [YES]
""").replace("""      help: "{brand}: help at {contact}. {frequency}. Msg&data rates may apply. Reply STOP to stop."
""", """      help: "{brand}: help at {contact}. {frequency}. Msg&data rates may apply. Reply STOP to stop."
      join: "{brand}: reply YES to confirm. {frequency}. Msg&data rates may apply. Reply STOP to stop, HELP for help."
      confirm: "{brand}: confirmed. {frequency}. Msg&data rates may apply. Reply STOP to stop, HELP for help."
""").replace("  none: [hello]", "  join: [JOIN]\n  confirm: [yes please]\n  none: [hello, yes I'll be there at 5]")


def test_minimal_file_with_double_opt_in_loads(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, WITH_DOI))
    assert (rules.classify("YES").action, rules.reply("confirm", "en", None)) == ("confirm", "Acme: confirmed. Msg freq varies. Msg&data rates may apply. Reply STOP to stop, HELP for help.")


REFUSALS = [
    pytest.param("keywords: [START]", "keywords: [START, 'YES']", "keywords: [YES]",
                 "'YES' (normalised 'yes') is a confirm keyword here and an opt_in keyword on line", id="yes-also-opt-in"),
    pytest.param("keywords: [JOIN]", "keywords: [JOIN, STOPS]", "keywords: [JOIN, STOPS]",
                 "join keyword 'STOPS' is 1 edit(s) from opt_out keyword 'STOP'", id="join-a-typo-from-stop"),
    pytest.param("keywords: [YES]", "keywords: [YES, QUITE]", "protected: [quite]",
                 "protected word 'quite' is also the confirm keyword", id="confirm-is-protected-word"),
    pytest.param("keywords: [YES]", "keywords: [YES, QUITE]", "keywords: [YES, QUITE]",
                 "confirm keyword 'QUITE' is 1 edit(s) from opt_out keyword 'QUIT'", id="confirm-a-typo-from-quit"),
    pytest.param('join: "{brand}: reply YES to confirm. {frequency}. Msg&data rates may apply. Reply STOP to stop, HELP for help."',
                 'join: "{brand}: reply OK to confirm. {frequency}. Msg&data rates may apply. Reply STOP to stop, HELP for help."', "join: ",
                 "does not say how to confirm (name a confirm keyword such as YES)", id="join-reply-without-yes"),
    pytest.param('join: "{brand}: reply YES to confirm. {frequency}. Msg&data rates may apply. Reply STOP to stop, HELP for help."',
                 'join: "{brand}: reply YES to confirm. {frequency}. Msg&data rates may apply. Reply HELP for help."', "join: ",
                 "does not say how to opt out (name an opt_out keyword such as STOP)", id="join-reply-without-stop"),
    pytest.param('join: "{brand}: reply YES to confirm. {frequency}. Msg&data rates may apply. Reply STOP to stop, HELP for help."',
                 'join: "{brand}: reply YES to confirm. {frequency}. Msg&data rates may apply. Reply STOP to stop."', "join: ",
                 "does not say how to get help (name a help keyword such as HELP)", id="join-reply-without-help"),
    pytest.param('join: "{brand}: reply YES to confirm. {frequency}. Msg&data rates may apply. Reply STOP to stop, HELP for help."',
                 'join: "Reply YES to confirm. {frequency}. Msg&data rates may apply. Reply STOP to stop, HELP for help."', "join: ",
                 "does not name the brand 'Acme'", id="join-reply-without-brand"),
    pytest.param('confirm: "{brand}: confirmed. {frequency}. Msg&data rates may apply. Reply STOP to stop, HELP for help."', 'confirm: "{brand}: confirmed."',
                 "confirm: ", "does not say how to opt out", id="confirm-reply-without-stop"),
    pytest.param('      confirm: "{brand}: confirmed. {frequency}. Msg&data rates may apply. Reply STOP to stop, HELP for help."\n', "", "  en:",
                 "languages.en has no confirm reply", id="confirm-keywords-without-reply"),
    pytest.param("    confirm:\n      keywords: [YES]", "    confirm:\n      keywords: [YES]\n      phrases: [yes i do]",
                 "phrases: [yes i do]", "unknown field 'phrases' in languages.en.confirm", id="confirm-has-no-phrases"),
    pytest.param("  confirm: [yes please]", "  confirm: [yes please, yes I'll be there]",
                 "confirm: [yes please, yes I'll be there]",
                 "example 'yes I'll be there' should be confirm but is none", id="failing-confirm-example"),
]


@pytest.mark.parametrize(("old", "new", "needle", "reason"), REFUSALS)
def test_refusal(tmp_path: Path, old: str, new: str, needle: str, reason: str) -> None:
    assert_refused(tmp_path, WITH_DOI, old, new, needle, reason)


def test_files_without_double_opt_in_need_no_join_replies(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, MINIMAL))
    assert (rules.classify("JOIN").intent, rules.reply("join", "en", None)) == ("none", None)


def test_sender_override_of_join_reply(tmp_path: Path) -> None:
    text = WITH_DOI.replace("    language: en\n", "    language: en\n  'MG123':\n    brand: Zed\n    replies:\n"
                            "      en:\n        join: \"{brand}: text YES to join us. {frequency}. Msg&data rates may apply. STOP to stop, HELP for help.\"\n", 1)
    rules = load_rules(write(tmp_path, text))
    assert rules.reply("join", "en", "MG123") == "Zed: text YES to join us. Msg freq varies. Msg&data rates may apply. STOP to stop, HELP for help."
    assert rules.reply("confirm", "en", "MG123") == "Zed: confirmed. Msg freq varies. Msg&data rates may apply. Reply STOP to stop, HELP for help."
