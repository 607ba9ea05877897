"""Offline generation of `inflections:` lists for languages no run-time stemmer covers well.

`make inflections` runs `python -m keywords inflections --write keywords.yaml`: for each listed
language, every one-word opt-out keyword that is a verb is looked up in simplemma's lemma dictionary
(its lemma, then every word form of that lemma), and the forms not yet listed are added under the
keyword in the file, in place, one `KEYWORD: [forms]` line each, so compliance staff can read,
edit and delete them. Hand-written forms and comments elsewhere are kept; a form deleted by hand
comes back on the next run only if it is deleted from `keywords.yaml` and not added to `skip`.

simplemma takes seconds and hundreds of MiB to load its dictionaries, which is why this runs
offline (requirements-tools.txt) and the gateway only reads the lists it wrote.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from keywords.model import OPT_OUT_INTENTS, RuleFile
from keywords.normalize import analyse
from keywords.stems import MIN_STEM, SNOWBALL

# Languages whose keywords get generated forms: those without a Snowball stemmer that simplemma
# covers, and Russian, whose verb stems Snowball keeps apart ("отпишитесь" vs "отписаться").
# Only verbs are inflected, told by the shape of their lemma (the infinitive): a noun's cases
# read as other things ("СТОП" -> "стопа", a foot; "ВИХІД" -> "на виході", at the exit), and
# participles and adjectives ("скасований", cancelled) describe rather than ask.
VERB_LEMMA = {
    "ru": re.compile(r"(ть|ться|чь|чься|ти|тись)$"),
    "uk": re.compile(r"(ти|тися|тись|ть|чи)$"),
    "sk": re.compile(r"(ť|ťsa|ti)$"),
    "sl": re.compile(r"(ti|či)$"),
    "lv": re.compile(r"(t|ties)$"),
}
NOT_A_REQUEST = {
    "ru": re.compile(r"(нн\w*|[ыиоа]й|[ая]я|[ое]е|[ыи]е|[ое]го|[ое]му|[ыи]х|[ыи]м|[ыи]ми|ано|ено|ена|ана|аны|ены|ят|ат)$"),
    "uk": re.compile(r"(ний|ена|ене|ені|ано|ено|ана|ані|ого|ому|[иі]й|[ая]я|[ії]х|ий|ої)$"),
    "sk": re.compile(r"(ný|ná|né|ní|ého|ému|ých|ým|ými)$"),
    "sl": re.compile(r"(an|ana|ano|ani|ane|en|ena|eno|eni|ene)$"),
    "lv": re.compile(r"(ts|ta|tais|tā|tie|tās|ošs|oša)$"),
}
GENERATED = tuple(VERB_LEMMA)
MAX_FORMS = 40
"""A keyword with more forms than this keeps the shortest: a noun's cases are enough, not every participle."""

FormsOf = Callable[[str, str], Iterable[str]]
"""(language, keyword in lower case) -> its lemma, then the word forms of that lemma."""


@dataclass(frozen=True, slots=True)
class Added:
    language: str
    keyword: str
    forms: tuple[str, ...]


def plan(rf: RuleFile, forms_of: FormsOf, languages: Iterable[str] = GENERATED) -> list[Added]:
    """The forms to add per keyword: new to the file, alphabetic, not protected, not a keyword themselves."""
    out: list[Added] = []
    for code in languages:
        lang = rf.languages.get(code)
        if lang is None or code in SNOWBALL and code != "ru":
            continue
        taken = {"".join(analyse(e.text).words) for e in (*lang.keywords, *lang.phrases)}
        taken |= {"".join(analyse(t).words) for t, _ in (*lang.protected, *lang.request, *lang.courtesy)}
        listed = {(k, "".join(analyse(f).words)) for k, f, _ in lang.inflections}
        verb, describes = VERB_LEMMA.get(code), NOT_A_REQUEST.get(code)
        for e in lang.keywords:
            words = analyse(e.text).words
            if e.intent not in OPT_OUT_INTENTS or len(words) != 1 or len(words[0]) < MIN_STEM:
                continue  # a re-subscribe is never reached by a generated form: START is asked for
            lemma_forms = list(forms_of(code, e.text.lower()))
            if verb is None or not lemma_forms or not verb.search(lemma_forms[0]):
                continue
            found = []
            for form in lemma_forms[1:]:
                key = "".join(analyse(form).words)
                if describes is not None and describes.search(form.lower()):
                    continue
                if (len(key) >= MIN_STEM and form.isalpha() and key not in taken
                        and (e.text, key) not in listed and form.lower() not in found):
                    found.append(form.lower())
            found = sorted(found, key=lambda f: (len(f), f))[:MAX_FORMS]
            if found:
                out.append(Added(code, e.text, tuple(sorted(found))))
    return out


_LANGUAGE = re.compile(r"^  ([A-Za-z-]+):\s*(#.*)?$")
_FIELD = re.compile(r"^    ([a-z_]+):")
_FLOW_ITEM = re.compile(r"^\s*([^:\[\]{}]+?):\s*\[(.*)\]\s*,?\s*$")


def write(text: str, added: list[Added]) -> str:
    """The file's text with each language's inflections block rewritten to hold the added forms.

    A language's `inflections:` (flow `{K: [..]}` on one line, or a block of `K: [..]` lines)
    becomes a block, hand-written forms first; a language without one gets it before `replies:`.
    """
    by_lang: dict[str, dict[str, list[str]]] = {}
    for a in added:
        by_lang.setdefault(a.language, {}).setdefault(a.keyword, []).extend(a.forms)
    lines = text.split("\n")
    out: list[str] = []
    i, lang = 0, None
    in_languages = False
    while i < len(lines):
        line = lines[i]
        if re.match(r"^[a-z_]+:", line):
            in_languages = line.startswith("languages:")
            lang = None
        elif in_languages and (m := _LANGUAGE.match(line)):
            lang = m.group(1)
        field = _FIELD.match(line)
        if lang in by_lang and field and field.group(1) == "inflections":
            existing, i = _read_block(lines, i)
            out.extend(_block(_merge(existing, by_lang.pop(lang))))
            continue
        if lang in by_lang and field and field.group(1) == "replies":
            out.extend(_block(by_lang.pop(lang)))
        out.append(line)
        i += 1
    return "\n".join(out)


def _read_block(lines: list[str], i: int) -> tuple[dict[str, list[str]], int]:
    """Parse an inflections field starting at line ``i`` (flow or block); returns it and the next line."""
    head = lines[i].split(":", 1)[1].strip()
    table: dict[str, list[str]] = {}
    if head.startswith("{"):
        body = head.strip("{} ")
        for found in re.finditer(r"([^,:\[\]{}]+?):\s*\[([^\]]*)\]", body):
            table[found.group(1).strip()] = _items(found.group(2))
        return table, i + 1
    i += 1
    while i < len(lines) and (lines[i].startswith("      ") or not lines[i].strip()):
        m = _FLOW_ITEM.match(lines[i])
        if m:
            table[m.group(1).strip()] = _items(m.group(2))
        elif lines[i].strip() and not lines[i].strip().startswith("#"):
            raise ValueError(f"line {i + 1}: cannot read this inflections entry; write it as KEYWORD: [form, form]")
        i += 1
    return table, i


def _items(flow: str) -> list[str]:
    return [item.strip().strip("'\"") for item in flow.split(",") if item.strip()]


def _merge(existing: dict[str, list[str]], new: dict[str, list[str]]) -> dict[str, list[str]]:
    merged = {k: list(v) for k, v in existing.items()}
    for keyword, forms in new.items():
        have = merged.setdefault(keyword, [])
        have.extend(f for f in forms if f not in have)
    return merged


def _block(table: dict[str, list[str]]) -> list[str]:
    return ["    inflections:"] + [f"      {keyword}: [{', '.join(forms)}]" for keyword, forms in table.items()]


def simplemma_forms() -> FormsOf:  # pragma: no cover - needs the offline tools (requirements-tools.txt)
    """forms_of backed by simplemma's dictionaries (lemma of the keyword, then all forms of that lemma)."""
    import simplemma
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    factory = DefaultDictionaryFactory()
    reverse: dict[str, dict[str, list[str]]] = {}

    def forms_of(language: str, word: str) -> list[str]:
        if language not in reverse:
            table: dict[str, list[str]] = {}
            for form, lemma in factory.get_dictionary(language).items():
                lemma_text = lemma.decode() if isinstance(lemma, bytes) else lemma
                table.setdefault(lemma_text.lower(), []).append(form.decode() if isinstance(form, bytes) else form)
            reverse[language] = table
        lemma = simplemma.lemmatize(word, lang=language).lower()
        return [lemma, *reverse[language].get(lemma, ()), *(reverse[language].get(word, ()) if lemma != word else ())]

    return forms_of
