"""Inflected keywords: Snowball stems at run time, and listed inflections where no stemmer fits.

Choice per language (PyStemmer's Snowball stemmers load in about 2 ms for all of them, so a hot
reload stays fast; simplemma took over 20 s and 1 GiB for 35 languages)::

    language                                 how an inflected keyword is found
    ---------------------------------------  ----------------------------------------------------
    en es fr de pt it nl pl tr ar sv da no   Snowball stem of the word equals the stem of a
    fa id el hu ro; fi et cs lt ca, ms (the  keyword ("opting" -> opt, "cancelen" -> cancel);
    Indonesian stemmer), hr sr (Serbian's,   where the stemmer splits one verb into several
    both scripts), hi (Devanagari only)      stems, the other forms are listed too
    ru uk (verb stems Snowball keeps apart,  inflections listed under the keyword in
    or no stemmer): `make inflections` adds  keywords.yaml ("отпишитесь" under ОТПИСАТЬСЯ), so
    simplemma's verb forms; sk sl lv bg bn   compliance staff can read and edit them
    ur pa he sw tl af ko, romanised hi
    zh ja th vi                              nothing to strip: matched per character, or (vi)
                                             not inflected

A keyword is stemmed only if it and its stem have at least MIN_STEM letters: "fin", "baja" and
"parar" would otherwise take "final", "bajo" and "para". Protected words never match by stem.
"""

from __future__ import annotations

from dataclasses import dataclass

import Stemmer

from keywords.hits import Hit
from keywords.model import Entry, RuleFile
from keywords.entries import entry_analysis

SNOWBALL = {"en": "english", "ru": "russian", "es": "spanish", "fr": "french", "de": "german",
            "pt": "portuguese", "it": "italian", "nl": "dutch", "pl": "polish", "tr": "turkish",
            "ar": "arabic", "sv": "swedish", "da": "danish", "no": "norwegian", "fi": "finnish",
            "et": "estonian", "cs": "czech", "hu": "hungarian", "ro": "romanian", "ca": "catalan",
            "lt": "lithuanian", "el": "greek", "hi": "hindi", "fa": "persian", "id": "indonesian",
            "ms": "indonesian", "sr": "serbian", "hr": "serbian"}
SCRIPT: dict[str, tuple[str, ...]] = {"ru": ("cyrillic",), "ar": ("arabic",), "fa": ("arabic",),
                                      "el": ("greek",), "hi": ("devanagari",),
                                      "sr": ("cyrillic", "latin")}
"""A word is stemmed only by the stemmers of its script (Serbian's reads both of its alphabets)."""
PREFIX_STRIPPING = frozenset({"nl", "ar"})
STEMMED_INTENTS = frozenset({"opt_out", "opt_out_all", "opt_in", "ask", "help"})
MIN_STEM = 4
_MAX_CACHE = 65536
_NONE: tuple[dict[str, tuple[str, ...]], tuple[str, ...]] = ({}, ())


@dataclass(frozen=True, slots=True)
class Form:
    """A word that inflects a keyword: that keyword's hit and the stem (or listed form) matched."""

    hit: Hit
    matched: str


def _form(intent: str, rule: str, language: str, matched: str) -> Form:
    return Form(Hit(intent, rule, frozenset({language}), (matched,)), matched)


class StemIndex:
    """Keyword stems per language and listed inflections; ``lookup`` answers per word, cached."""

    def __init__(self, rf: RuleFile, protected: set[str]) -> None:
        self.stemmers: dict[str, Stemmer.Stemmer] = {}
        self.stems: dict[str, dict[str, Form]] = {}
        self.listed: dict[str, Form] = {}
        self.protected = protected
        self._cache: dict[str, Form | None] = {}
        self.misses: set[str] = set()
        self.forms: set[str] = set()
        self.scripts: dict[str, tuple[str, ...]] = {}
        for lang in rf.languages.values():
            algorithm = SNOWBALL.get(lang.code)
            if algorithm is not None:
                self.stemmers[lang.code] = stemmer = Stemmer.Stemmer(algorithm)
                table = self.stems.setdefault(lang.code, {})
                for e in lang.keywords:
                    words = entry_analysis(e.text).words
                    if e.intent not in STEMMED_INTENTS or len(words) != 1 or len(words[0]) < MIN_STEM:
                        continue
                    stem = stemmer.stemWord(words[0])
                    if len(stem) >= MIN_STEM and words[0].isalpha():
                        # A re-subscribe reached by a stem ("STARTT" stems like STARTA) only asks for START.
                        intent = "ask" if e.intent == "opt_in" else e.intent
                        table.setdefault(stem, _form(intent, e.text, lang.code, stem))
                for script in SCRIPT.get(lang.code, ("latin",)):
                    self.scripts[script] = (*self.scripts.get(script, ()), lang.code)
            by_key: dict[str, Entry] = {}
            for e in lang.keywords:
                by_key.setdefault("".join(entry_analysis(e.text).words), e)
            for keyword, form, _ in lang.inflections:
                entry = by_key.get("".join(entry_analysis(keyword).words))
                key = "".join(entry_analysis(form).words)
                if entry is not None and key:
                    self.listed.setdefault(key, _form(entry.intent, entry.text, lang.code, key))
        # First letters of every keyword stem, for the stemmers that only strip suffixes (Dutch
        # drops a "ge-" prefix and Arabic an article, so every word goes through those two).
        self.starts: dict[str, frozenset[str]] = {
            code: frozenset(stem[:MIN_STEM] for stem in table) for code, table in self.stems.items()
            if code not in PREFIX_STRIPPING}
        # Per script and word start, the stemmers worth running, in file order: a word costs one
        # lookup here, not one test per language of its script.
        self.candidates: dict[str, tuple[dict[str, tuple[str, ...]], tuple[str, ...]]] = {}
        for script, codes in self.scripts.items():
            always = tuple(c for c in codes if c not in self.starts)
            begins = {start for c in codes for start in self.starts.get(c, ())}
            self.candidates[script] = ({b: tuple(c for c in codes if c not in self.starts or b in self.starts[c])
                                        for b in begins}, always)
        self.listed_words = [entry_analysis(form).words for _, form, _ in rf_inflections(rf)]
        self.listed_first = frozenset(words[0] for words in self.listed_words if words)
        self.listed_prefixes = frozenset(key[:j] for key in self.listed for j in range(1, len(key) + 1))

    def lookup(self, word: str) -> Form | None:
        """The keyword ``word`` inflects, if any (listed forms first, then stems in file order)."""
        found = self._cache.get(word, False)
        if found is not False:
            return found  # type: ignore[return-value]
        result = self._lookup(word)
        if len(self._cache) < _MAX_CACHE:
            self._cache[word] = result
            (self.misses if result is None else self.forms).add(word)
        return result

    def any_form(self, words: tuple[str, ...]) -> bool:
        """Some word inflects a keyword (words already looked up are answered by set operations)."""
        if not self.forms.isdisjoint(words):
            return True
        if self.misses.issuperset(words):
            return False
        return any(self.lookup(w) is not None for w in set(words).difference(self.misses))

    def _lookup(self, word: str) -> Form | None:
        listed = self.listed.get(word)
        if listed is not None:
            return listed
        if len(word) < MIN_STEM or word in self.protected or not word.isalpha():
            return None
        # A suffix-stripping stemmer keeps the start: only those with a keyword stem beginning so run.
        by_start, always = self.candidates.get(_script(word[0]), _NONE)
        for code in by_start.get(word[:MIN_STEM], always):
            form = self.stems[code].get(self.stemmers[code].stemWord(word))
            if form is not None:
                return form
        return None


def rf_inflections(rf: RuleFile) -> list[tuple[str, str, int]]:
    """Every listed inflection of the file: (keyword, form, line)."""
    return [item for lang in rf.languages.values() for item in lang.inflections]


def _script(ch: str) -> str:
    cp = ord(ch)
    if 0x0400 <= cp < 0x0530:
        return "cyrillic"
    if 0x0600 <= cp < 0x0700:
        return "arabic"
    if 0x0370 <= cp < 0x0400:
        return "greek"
    if 0x0900 <= cp < 0x0980:
        return "devanagari"
    if cp < 0x0250 or 0x1E00 <= cp < 0x1F00:
        return "latin"
    return "other"
