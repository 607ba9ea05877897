"""The matching tables of one rules file, built once when it loads: what `Matcher` looks words up in.

Keywords and phrases by intent, courtesy and request words, guards, channels and protected words
(the exact and phrase tiers), the request tier's and clauses' tables with the anchor words that rule
a clause out cheaply, and the fuzzy tier's candidates (fuzzy.py). keywords/matcher.py decides with them.
"""

from __future__ import annotations

from collections.abc import Iterable

from keywords.entries import entry_analysis
from keywords.fuzzy import FuzzyTier
from keywords.hits import Hit, compact
from keywords.model import WORD_LISTS, RuleFile
from keywords.vocabulary import Runs, Vocabulary, _runs
from keywords.stems import StemIndex

CLAUSE_INTENTS = frozenset({"opt_out", "opt_out_all", "opt_in", "ask"})
COMPOUND_HEAD, COMPOUND_END = 3, 5


class Tables(FuzzyTier):
    """All tables for one rules file, precomputed."""

    def __init__(self, rf: RuleFile) -> None:
        self.settings = rf.settings
        self.exact: dict[str, Hit] = {}
        self.courtesy: dict[str, frozenset[str]] = {}
        self.phrases: dict[str, list[Hit]] = {}
        self.guards: set[tuple[str, ...]] = set()
        self.other_channels: set[str] = set()
        self.sms_words: set[str] = set()
        self.protected: set[str] = set()
        self.max_keyword_words = 1
        self.max_courtesy_words = 1
        for lang in rf.languages.values():
            for e in lang.keywords:
                words = entry_analysis(e.text).words
                if not words:
                    continue
                key = compact(words)
                old = self.exact.get(key)
                langs = frozenset({e.language}) | (old.languages if old and old.intent == e.intent else frozenset())
                rule = old.rule if old and old.intent == e.intent else e.text
                self.exact[key] = Hit(e.intent, rule, langs, words)
                self.max_keyword_words = max(self.max_keyword_words, len(words))
            for e in lang.phrases:
                words = entry_analysis(e.text).words
                if words:
                    self.phrases.setdefault(words[0], []).append(Hit(e.intent, e.text, frozenset({e.language}), words))
            for text, _ in lang.courtesy:
                words = entry_analysis(text).words
                if words:
                    key = compact(words)
                    self.courtesy[key] = self.courtesy.get(key, frozenset()) | {lang.code}
                    self.max_courtesy_words = max(self.max_courtesy_words, len(words))
            self.guards.update(w for w in (entry_analysis(t).words for t, _ in lang.guards) if w)
            self.other_channels.update(compact(entry_analysis(t).words) for t, _ in lang.other_channels)
            self.sms_words.update(compact(entry_analysis(t).words) for t, _ in lang.sms_words)
            self.protected.update(compact(entry_analysis(t).words) for t, _ in lang.protected)
        self.max_guard_words = max((len(g) for g in self.guards), default=0)
        # Cheap rejections: a word that is no piece of a keyword or courtesy word rules a tier out.
        self.courtesy_pieces = _substrings(self.courtesy)
        self.pieces = self.courtesy_pieces | _substrings(self.exact)
        self.prefixes = frozenset(key[:j] for key in (*self.exact, *self.courtesy) for j in range(1, len(key) + 1))
        self.max_segment_words = max(self.max_keyword_words, self.max_courtesy_words)
        self._build_clause_tables(rf)
        self._build_fuzzy()
        self._build_known(rf)

    def _build_known(self, rf: RuleFile) -> None:
        """Every word the file knows, and compounds ending in an SMS object ("tarjousviestejä",
        "Werbenachrichten"), by word, found once."""
        # The hint's "unknown" is none of these words, in any language and list.
        self.known = frozenset(w for lang in rf.languages.values()
                               for text in (*(e.text for e in (*lang.keywords, *lang.phrases)),
                                            *(t for name in WORD_LISTS for t, _ in getattr(lang, name)),
                                            *(f for _, f, _ in lang.inflections))
                               for w in entry_analysis(text).words)
        self.compound_ends = frozenset(w for w in (*self.vocab.objects_alone, *self.sms_words) if len(w) >= COMPOUND_END)
        self._compounds: dict[str, str] = {}

    def decompound(self, words: tuple[str, ...]) -> tuple[str, ...]:
        """``words`` with each word the file does not know that ends in an SMS object of COMPOUND_END
        letters or more, after COMPOUND_HEAD or more, read as that object ("black friday
        tarjousviestejä" as "... viestejä"): compounding languages write the campaign into the noun."""
        if self.known.issuperset(words):
            return words
        return tuple(self._compound(w) if w not in self.known else w for w in words)

    def _compound(self, word: str) -> str:
        found = self._compounds.get(word)
        if found is None:
            ends = (word[j:] for j in range(COMPOUND_HEAD, len(word) - COMPOUND_END + 1))
            found = next((end for end in ends if end in self.compound_ends), word) if word.isalpha() else word
            if len(self._compounds) < 100_000:  # bounded: every unknown word of every message passes here
                self._compounds[word] = found
        return found

    def _build_clause_tables(self, rf: RuleFile) -> None:
        """The request tier's and the clauses' tables, and the anchor words that rule them out cheaply."""
        self.guard_words = frozenset(w for g in self.guards for w in g)
        self.vocab = Vocabulary(rf, self.pieces)
        # A conjunction that is a request word elsewhere ("mais": pt "more", fr "but") splits nothing.
        conjunctions = [entry_analysis(t).words for lang in rf.languages.values() for t, _ in lang.conjunctions]
        self.conjunctions: Runs = _runs([w for w in conjunctions if len(w) > 1 or w[0] not in self.vocab.request])
        self.stems = StemIndex(rf, self.protected)
        # A clause decides only with one of these words (or an inflected keyword) in it: for each
        # keyword of a clause intent, phrase, opt-out verb and listed form, its rarest word.
        anchored = [h.words for h in self.exact.values() if h.intent in CLAUSE_INTENTS or h.intent == "help"]
        anchored += [h.words for hits in self.phrases.values() for h in hits]
        anchored += [*self.vocab.with_object, *self.stems.listed_words,
                     *(run for runs in self.vocab.again.values() for run in runs)]
        self.triggers = frozenset(self._anchor(words) for words in anchored if words)
        self.guard_ends = frozenset(g[-1] for g in self.guards)
        # CJK entries are one word per character: looked up as a run of the clause's characters.
        self.sms_cjk = tuple(k for k in self.sms_words if _is_cjk_run(k))
        self.other_channels_cjk = tuple(k for k in self.other_channels if _is_cjk_run(k))
        self.cjk_firsts = frozenset(k[0] for k in (*self.sms_cjk, *self.other_channels_cjk))
        # Entries of several words ("lista de espera", "text messages") are looked for as runs.
        self.channel_runs: dict[str, Runs] = {
            name: _runs([w for w in (entry_analysis(t).words for lang in rf.languages.values()
                                     for t, _ in getattr(lang, name)) if len(w) > 1 and not _is_cjk_run(compact(w))])
            for name in ("other_channels", "sms_words")}
        self.channel_anchors = {name: frozenset(runs) for name, runs in self.channel_runs.items()}
        self.help_anchors = frozenset(self._anchor(h.words) for h in self.exact.values() if h.intent == "help")
        self.single_guards = frozenset(g[0] for g in self.guards if len(g) == 1)
        # Phrases as matched, by anchor word: as written, and with courtesy words left out on both sides.
        self.phrase_runs: dict[str, list[tuple[tuple[str, ...], Hit, int]]] = {}
        self.phrases_without_courtesy: dict[str, list[tuple[tuple[str, ...], Hit, int]]] = {}
        for hits in self.phrases.values():
            for h in hits:
                for table, run in ((self.phrase_runs, h.words),
                                   (self.phrases_without_courtesy,
                                    tuple(w for w in h.words if w not in self.courtesy) or h.words)):
                    # Not a keyword either: "bus stop" should not try every "stop ..." phrase.
                    anchor = max(run, key=lambda w: (w not in self.vocab.request and w not in self.exact, len(w)))
                    table.setdefault(anchor, []).append((run, h, run.index(anchor)))
        self.phrase_anchors = frozenset((*self.phrase_runs, *self.phrases_without_courtesy))
        self._build_widen(rf)
        # Request words that may also start a keyword or an opt-out verb ("全" of 全部退订).
        firsts = {h.words[0] for h in self.exact.values() if len(h.words) > 1}
        firsts.update(w[0] for w in self.vocab.with_object)
        self.starts = frozenset(w for w in self.vocab.request if w in firsts or w in self.stems.listed_first
                                or self.stems.lookup(w) is not None)
        # What the request tier's first shape takes besides inflected keywords: request words, SMS
        # objects alone and (with self.pieces) any piece of a keyword or a listed form, which a message
        # may write apart ("opt out", "un subscribe").
        self.request_pieces = frozenset(self.vocab.request) | self.vocab.objects_alone | _substrings(self.stems.listed)

    def _build_widen(self, rf: RuleFile) -> None:
        """(opt-out rule, last word) -> the opt_out_all keyword they spell apart ("unsubscribe from all")."""
        self.widen: dict[tuple[str, str], Hit] = {}
        for h in self.exact.values():
            base = self.exact.get(compact(h.words[:-1]))
            if h.intent == "opt_out_all" and len(h.words) > 1 and base is not None and base.intent == "opt_out":
                self.widen.setdefault((base.rule, h.words[-1]), h)
        # The words that widen an opt-out to every sender ("all", "alles", "все"), with the
        # STOPALL keyword of each language they do it in.
        self.widening: dict[str, list[Hit]] = {}
        widening = [(word, h) for (_, word), h in self.widen.items()]
        # ... and the words of ``everything:`` ("всех", "wszystkich"), with the language's first
        # STOPALL keyword.
        for lang in rf.languages.values():
            stopall = next((self.exact[key] for e in lang.keywords if e.intent == "opt_out_all"
                            if (key := compact(entry_analysis(e.text).words)) in self.exact), None)
            if stopall is not None:
                widening += [(compact(entry_analysis(t).words), stopall) for t, _ in lang.everything]
        for word, h in widening:
            if all(not (h.languages & other.languages) for other in self.widening.get(word, ())):
                self.widening.setdefault(word, []).append(h)

    def _anchor(self, words: tuple[str, ...]) -> str:
        """The word of an entry least likely in an ordinary message: not a request word, longest."""
        return max(words, key=lambda w: (w not in self.vocab.request, len(w)))


def _substrings(keys: Iterable[str]) -> frozenset[str]:
    """Every piece a message word can be of these keys (a key may span words: "opt out")."""
    return frozenset(key[i:j] for key in keys for i in range(len(key)) for j in range(i + 1, len(key) + 1))


def _is_cjk_run(key: str) -> bool:
    return len(entry_analysis(key).words) > 1
