"""CTIA's reply terms (frequency, rates, HELP and STOP), unreviewed replies and Canada's two languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from keywords import load_rules
from tests.keywords.files import MINIMAL, assert_refused, write

HELP = 'help: "{brand}: help at {contact}. {frequency}. Msg&data rates may apply. Reply STOP to stop."'
OPT_IN = 'opt_in: "{brand}: subscribed again. {frequency}. Msg&data rates may apply. Reply STOP to stop, HELP for help."'

FRENCH = '''  fr:
    opt_out:
      keywords: [ARRET]
    opt_out_all:
      keywords: [ARRET TOUT]
    opt_in:
      keywords: [REPRENDRE]
    help:
      keywords: [AIDE]
    rates: Frais de SMS possibles
    frequency: Nombre de SMS variable
    reviewed: REVIEWED
    replies:
      opt_out: "{brand}: desabonne. Repondez REPRENDRE pour revenir."
      opt_out_all: "{brand}: desabonne de tout. Repondez REPRENDRE pour revenir."
      opt_in: "{brand}: reabonne. {frequency}. Frais de SMS possibles. ARRET pour arreter, AIDE pour aide."
      help: "{brand}: aide {contact}. {frequency}. Frais de SMS possibles. ARRET pour arreter."
examples:'''


def with_french(reviewed: bool = True, senders: str = "") -> str:
    text = MINIMAL.replace("examples:", FRENCH.replace("REVIEWED", str(reviewed).lower()), 1)
    return text.replace("    language: en\n", "    language: en\n" + senders, 1)


@pytest.mark.parametrize(("old", "new", "needle", "reason"), [
    pytest.param(HELP, HELP.replace(" {frequency}.", ""), "help: ",
                 "does not state the message frequency 'Msg freq varies' (use {frequency})", id="help-without-frequency"),
    pytest.param(HELP, HELP.replace(" Msg&data rates may apply.", ""), "help: ",
                 "does not say 'Msg&data rates may apply'", id="help-without-rates"),
    pytest.param(OPT_IN, OPT_IN.replace(" {frequency}.", ""), "opt_in: ",
                 "does not state the message frequency", id="opt-in-without-frequency"),
    pytest.param(OPT_IN, OPT_IN.replace(" Msg&data rates may apply.", ""), "opt_in: ",
                 "does not say 'Msg&data rates may apply'", id="opt-in-without-rates"),
    pytest.param(OPT_IN, OPT_IN.replace(", HELP for help", ""), "opt_in: ",
                 "does not say how to get help (name a help keyword such as HELP)", id="opt-in-without-help"),
    pytest.param(OPT_IN, OPT_IN.replace("Reply STOP to stop, ", "Reply "), "opt_in: ",
                 "does not say how to opt out", id="opt-in-without-stop"),
    pytest.param("    rates: Msg&data rates may apply\n", "", "help: ",
                 "cannot say that rates may apply: set languages.en.rates", id="language-without-rates"),
    pytest.param("    frequency: Msg freq varies\n", "", "help: ",
                 "has no message frequency: set languages.en.frequency", id="language-without-frequency"),
    pytest.param("    language: en\n", "    language: en\n    country: Canada\n", "country: Canada",
                 "senders.default.country must be a two-letter ISO country code", id="country-not-iso"),
    pytest.param("    frequency: Msg freq varies\n", "    frequency: [daily]\n", "frequency: [daily]",
                 "languages.en.frequency must be text", id="frequency-not-text"),
    pytest.param("    rates: Msg&data rates may apply\n", "    rates: Msg&data rates may apply\n    reviewed: maybe\n",
                 "reviewed: maybe", "languages.en.reviewed must be true or false", id="reviewed-not-boolean"),
])
def test_refused(tmp_path: Path, old: str, new: str, needle: str, reason: str) -> None:
    assert_refused(tmp_path, MINIMAL, old, new, needle, reason)


def test_brand_frequency_fills_every_reply_that_states_it(tmp_path: Path) -> None:
    text = MINIMAL.replace("    language: en\n", "    language: en\n    frequency: Up to 4 msgs/mo\n", 1)
    rules = load_rules(write(tmp_path, text))
    assert rules.reply("help", "en", None) == (
        "Acme: help at 1-800-555-0100. Up to 4 msgs/mo. Msg&data rates may apply. Reply STOP to stop.")
    assert "Up to 4 msgs/mo." in rules.reply("opt_in", "en", None)  # type: ignore[operator]


def test_brand_frequency_per_language(tmp_path: Path) -> None:
    senders = "  '+15145550100':\n    brand: Resto\n    frequency: {en: 2 msgs/week, fr: 2 SMS par semaine}\n"
    rules = load_rules(write(tmp_path, with_french(senders=senders)))
    assert "2 SMS par semaine." in rules.reply("help", "fr", "+15145550100")  # type: ignore[operator]
    assert "2 msgs/week." in rules.reply("help", "en", "+15145550100")  # type: ignore[operator]
    assert "Nombre de SMS variable." in rules.reply("help", "fr", None)  # type: ignore[operator]


def test_the_brand_frequency_may_be_written_out(tmp_path: Path) -> None:
    """What is checked is the sent text: a reply that spells out the brand's frequency passes."""
    text = MINIMAL.replace(HELP, HELP.replace(" {frequency}.", " Weekly."))
    text = text.replace("    language: en\n", "    language: en\n    frequency: Weekly\n", 1)
    assert load_rules(write(tmp_path, text)).reply("help", "en", None) == (
        "Acme: help at 1-800-555-0100. Weekly. Msg&data rates may apply. Reply STOP to stop.")


def test_unreviewed_replies_fall_back_to_the_sender_language(tmp_path: Path) -> None:
    reviewed = load_rules(write(tmp_path, with_french(reviewed=True)))
    unreviewed = load_rules(write(tmp_path, with_french(reviewed=False)))
    decision = unreviewed.classify("ARRET")
    assert (decision.intent, decision.language) == ("opt_out", "fr")
    assert reviewed.reply_for(decision, None) == "Acme: desabonne. Repondez REPRENDRE pour revenir."
    assert unreviewed.reply_for(decision, None) == "Acme: unsubscribed. Reply START to resubscribe."


def test_unreviewed_replies_are_still_sent_when_nothing_else_exists(tmp_path: Path) -> None:
    """A reply only the unreviewed language has (a French-only sender override) is sent in French."""
    senders = "  '12345':\n    language: fr\n"
    rules = load_rules(write(tmp_path, with_french(reviewed=False, senders=senders)))
    assert rules.reply_languages("fr", "12345") == ("en", "fr")


@pytest.mark.parametrize(("sender", "senders"), [
    pytest.param("+15145550100", "  '+15145550100':\n    language: fr\n", id="montreal-number-french-default"),
    pytest.param("+16135550100", "", id="ottawa-number-unlisted"),
    pytest.param("MG00000000000000000000000000000001",
                 "  MG00000000000000000000000000000001:\n    language: fr\n    country: ca\n", id="brand-setting"),
])
def test_canadian_programs_answer_stop_in_english_and_arret_in_french(tmp_path: Path, sender: str, senders: str) -> None:
    rules = load_rules(write(tmp_path, with_french(senders=senders)))
    stop, arret, aide = rules.classify("STOP"), rules.classify("ARRET"), rules.classify("AIDE")
    assert rules.reply_for(stop, sender) == "Acme: unsubscribed. Reply START to resubscribe."
    assert rules.reply_for(rules.classify("HELP"), sender).startswith("Acme: help at")  # type: ignore[union-attr]
    assert rules.reply_for(arret, sender) == "Acme: desabonne. Repondez REPRENDRE pour revenir."
    assert rules.reply_for(aide, sender).startswith("Acme: aide")  # type: ignore[union-attr]


def test_a_french_program_outside_canada_keeps_its_default(tmp_path: Path) -> None:
    senders = "  '+33612345678':\n    language: fr\n"
    rules = load_rules(write(tmp_path, with_french(senders=senders)))
    assert rules.reply("opt_out", None, "+33612345678") == "Acme: desabonne. Repondez REPRENDRE pour revenir."
    assert rules.reply("opt_out", None, "+15145550100") == "Acme: unsubscribed. Reply START to resubscribe."


def test_shipped_file_states_the_terms_in_every_language() -> None:
    rules = load_rules(Path(__file__).parents[2] / "keywords.yaml")
    for code, lang in rules.file.languages.items():
        assert lang.rates and lang.frequency, code
        for kind in ("help", "opt_in"):
            text = rules.render(kind, code, None)
            assert text is not None and lang.rates in text and lang.frequency in text, (code, kind)
