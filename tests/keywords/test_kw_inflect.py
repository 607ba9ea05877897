"""make inflections: generated word forms land in the file as reviewable lists, verbs only."""

from __future__ import annotations

from pathlib import Path

from keywords import load_rules, parse_rules
from keywords.inflect import plan, write
from tests.keywords.files import MINIMAL

UKRAINIAN = '''  uk:
    opt_out:
      keywords: [СКАСУВАТИ, ВИХІД, СТОП]
    inflections: {СКАСУВАТИ: [скасуйте]}
    rates: Може стягуватися плата
    frequency: Частота різна
    replies:
      opt_out: "{brand}: відписано. START - підписатися знову."
      opt_out_all: "{brand}: відписано від усього. START - знову."
      opt_in: {text: "{brand}: підписано. {frequency}. Може стягуватися плата. СТОП - відписка, HELP - довідка.", max_segments: 3}
      help: {text: "{brand}: {contact}. {frequency}. Може стягуватися плата. СТОП - відписка.", max_segments: 3}
examples:'''

# What simplemma answers for these keywords: the lemma first, then every form of that lemma.
FORMS = {
    ("uk", "скасувати"): ["скасувати", "скасуйте", "скасуй", "скасую", "скасований", "скасовано", "скасу-й"],
    ("uk", "вихід"): ["вихід", "виходу", "виході"],  # a noun: its cases read as other things
    ("uk", "стоп"): ["стоп", "стопа", "стопу"],
}


def forms_of(language: str, word: str) -> list[str]:
    return FORMS.get((language, word), [])


def test_verbs_get_their_forms_nouns_and_participles_do_not() -> None:
    rules = parse_rules(MINIMAL.replace("examples:", UKRAINIAN, 1))
    added = plan(rules.file, forms_of, ["uk"])
    assert [(a.language, a.keyword, a.forms) for a in added] == [("uk", "СКАСУВАТИ", ("скасуй", "скасую"))]


def test_written_forms_are_a_block_that_loads_and_keeps_hand_written_ones(tmp_path: Path) -> None:
    text = MINIMAL.replace("examples:", UKRAINIAN, 1)
    written = write(text, plan(parse_rules(text).file, forms_of, ["uk"]))
    assert "    inflections:\n      СКАСУВАТИ: [скасуйте, скасуй, скасую]\n" in written
    path = tmp_path / "keywords.yaml"
    path.write_text(written, encoding="utf-8")
    rules = load_rules(path)
    d = rules.classify("скасую")
    assert (d.intent, d.tier, d.matched) == ("opt_out", "request", "скасую")
    # A second run adds nothing: the forms are in the file now.
    assert plan(rules.file, forms_of, ["uk"]) == []


def test_a_language_without_inflections_gets_the_field_before_its_replies() -> None:
    text = MINIMAL.replace("examples:", UKRAINIAN.replace("    inflections: {СКАСУВАТИ: [скасуйте]}\n", ""), 1)
    written = write(text, plan(parse_rules(text).file, forms_of, ["uk"]))
    assert "    inflections:\n      СКАСУВАТИ: [скасуй, скасуйте, скасую]\n    replies:" in written
    parse_rules(written)
