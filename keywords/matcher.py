"""Compiled matching tiers: every table is built once at load, classify only looks things up.

Tiers, tried in this order; the first that decides wins (mailroom style)::

    tier      message shape                               example                    needs_review
    --------  ------------------------------------------  -------------------------  ------------
    exact     the whole message is one keyword            "STOP", "S.T.O.P", "退订"  no
    courtesy  only keywords and courtesy words            "stop please", "STOP STOP" no
    phrase    a listed phrase anywhere, not guarded       "pls stop texting me"      yes
    fuzzy     one word (plus courtesy) within the edit    "STPO", "UNSUSCRIBE"       yes
              budget of a keyword, not a protected word
    (none)    anything else: a keyword inside an ordinary sentence never counts

Tie-breaks::

    situation                                      result
    ---------------------------------------------  ------------------------------------------
    keywords of two intents in one message         opt_out_all > opt_out > opt_in > join >
      ("STOP START", "help stop", "STOP YES")      confirm > help (stopping is the safe side of
                                                   a mistake)
    phrases of two intents in one message          same order
    guard (negation) within guard_window words     that phrase is ignored ("don't stop texting")
      before a phrase
    a word of another channel (email, newsletter)  phrase tier ignored ("how do I unsubscribe
      and no SMS word (text, sms) in the message     from the email list?"), unless an SMS word
                                                   is also present
    a question mark                                no effect: a question that asks to stop
                                                   texting ("can you stop texting me?") stops
    fuzzy candidates at equal distance             higher rapidfuzz ratio, then opt_out before
                                                   opt_out_all (a typo never widens scope)
    keyword listed in several languages            language = None (ambiguous); courtesy words
                                                   of one language break the tie ("STOP bitte")

Fuzzy edit budget (settings.fuzzy): by keyword length, default 1-3 letters exact only ("END",
"TD", "DUR"), 4-12 one edit, 13+ two. Keywords shorter than typo_model_below letters accept only
keyboard slips (typos.py: swapped letters, a neighbouring key, a doubled or dropped letter); the
first letter must always match unless swapped with the second. Doubled letters are forgiven
("STOPP"). Protected words (per language, e.g. "quite") never match. Only intents in
settings.fuzzy.intents (default opt_out, opt_out_all) are fuzzy-matched; HELP and START are not,
and the double opt-in keywords (join: JOIN, confirm: YES) never are: they have no phrases either.

Speed: a message with a word that is no piece of any keyword or courtesy word skips the courtesy
tier, one with two words that are no piece of a courtesy word skips the fuzzy tier, and fuzzy
candidates are looked up by length and first letter(s) instead of scanning every keyword.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from keywords.model import RuleFile
from keywords.normalize import Normalized, analyse, squeeze
from keywords.typos import is_typo

PRIORITY = {"opt_out_all": 0, "opt_out": 1, "opt_in": 2, "join": 3, "confirm": 4, "help": 5}
FUZZY_PRIORITY = {"opt_out": 0, "opt_out_all": 1, "opt_in": 2}


@dataclass(frozen=True, slots=True)
class Hit:
    """What a table entry decides: intent (opt_out_all kept apart), the rule as written, languages."""

    intent: str
    rule: str
    languages: frozenset[str]
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome of one classification before it becomes a public Decision."""

    hit: Hit | None
    tier: str | None
    score: float
    languages: frozenset[str]
    normalized: str


def compact(words: tuple[str, ...] | list[str]) -> str:
    """Key for keyword tables: words joined without spaces ("opt out" == "optout")."""
    return "".join(words)


def _is_cjk_free(word: str) -> bool:
    return analyse(word).words == (word,)


def _substrings(keys: Iterable[str]) -> frozenset[str]:
    """Every piece a message word can be of these keys (a key may span words: "opt out")."""
    return frozenset(key[i:j] for key in keys for i in range(len(key)) for j in range(i + 1, len(key) + 1))


class Matcher:
    """All tiers for one rules file, precomputed."""

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
                words = analyse(e.text).words
                if not words:
                    continue
                key = compact(words)
                old = self.exact.get(key)
                langs = frozenset({e.language}) | (old.languages if old and old.intent == e.intent else frozenset())
                rule = old.rule if old and old.intent == e.intent else e.text
                self.exact[key] = Hit(e.intent, rule, langs, words)
                self.max_keyword_words = max(self.max_keyword_words, len(words))
            for e in lang.phrases:
                words = analyse(e.text).words
                if words:
                    self.phrases.setdefault(words[0], []).append(Hit(e.intent, e.text, frozenset({e.language}), words))
            for text, _ in lang.courtesy:
                words = analyse(text).words
                if words:
                    key = compact(words)
                    self.courtesy[key] = self.courtesy.get(key, frozenset()) | {lang.code}
                    self.max_courtesy_words = max(self.max_courtesy_words, len(words))
            self.guards.update(w for w in (analyse(t).words for t, _ in lang.guards) if w)
            self.other_channels.update(compact(analyse(t).words) for t, _ in lang.other_channels)
            self.sms_words.update(compact(analyse(t).words) for t, _ in lang.sms_words)
            self.protected.update(compact(analyse(t).words) for t, _ in lang.protected)
        self.max_guard_words = max((len(g) for g in self.guards), default=0)
        # Cheap rejections: a word that is no piece of a keyword or courtesy word rules a tier out.
        self.courtesy_pieces = _substrings(self.courtesy)
        self.pieces = self.courtesy_pieces | _substrings(self.exact)
        self.prefixes = frozenset(key[:j] for key in (*self.exact, *self.courtesy) for j in range(1, len(key) + 1))
        self.max_segment_words = max(self.max_keyword_words, self.max_courtesy_words)
        self._build_fuzzy()

    def _build_fuzzy(self) -> None:
        fz = self.settings.fuzzy
        self.fuzzy_buckets: dict[int, list[str]] = {}
        # (length, first letter) and (length, first two letters) -> [(position in its length
        # bucket, key)]: the first letter must match, or be swapped with the second ("TSOP").
        self.fuzzy_by_first: dict[tuple[int, str], list[tuple[int, str]]] = {}
        self.fuzzy_by_two: dict[tuple[int, str], list[tuple[int, str]]] = {}
        self.fuzzy_hits: dict[str, Hit] = {}
        self.squeezed: dict[str, str] = {}
        # word length -> (keyword length, edit budget) pairs worth measuring
        self.fuzzy_sizes: dict[int, tuple[tuple[int, int], ...]] = {}
        self.never_fuzzy: set[str] = set()
        if not fz.enabled:
            return
        for key, hit in self.exact.items():
            if hit.intent in fz.intents and key.isalpha() and _is_cjk_free(key):
                bucket = self.fuzzy_buckets.setdefault(len(key), [])
                self.fuzzy_by_first.setdefault((len(key), key[0]), []).append((len(bucket), key))
                self.fuzzy_by_two.setdefault((len(key), key[:2]), []).append((len(bucket), key))
                bucket.append(key)
                self.fuzzy_hits[key] = hit
                self.squeezed.setdefault(squeeze(key), key)
        for length in range(3, max(self.fuzzy_buckets, default=0) + 3):
            # A length difference costs edits; sizes without a keyword or a budget are skipped.
            self.fuzzy_sizes[length] = tuple(
                (size, budget) for size in range(length - 2, length + 3)
                if size in self.fuzzy_buckets and 0 < (budget := fz.budget(size)) and budget >= abs(size - length))
        self.never_fuzzy = self.protected | set(self.courtesy) | set(self.exact)

    # -- tiers ----------------------------------------------------------------------------
    def classify(self, text: str) -> Match:
        n = analyse(text[: self.settings.max_message_chars])
        words = n.words
        if not words:
            return Match(None, None, 0.0, frozenset(), n.text)
        hit = self.exact.get(compact(words))
        if hit is not None:
            return Match(hit, "exact", 100.0, hit.languages, n.text)
        if len(words) <= self.settings.max_courtesy_words and self.pieces.issuperset(words):
            found = self._courtesy(words)
            if found is not None:
                return Match(found[0], "courtesy", 100.0, found[1], n.text)
        phrase = self._phrase(n)
        if phrase is not None:
            return Match(phrase, "phrase", 100.0, phrase.languages, n.text)
        if self.fuzzy_buckets and len(words) <= self.settings.max_courtesy_words:
            fuzzy = self._fuzzy_with_courtesy(words)
            if fuzzy is not None:
                return Match(fuzzy[0], "fuzzy", fuzzy[1], fuzzy[2], n.text)
        return Match(None, None, 0.0, frozenset(), n.text)

    def _segments(self, words: tuple[str, ...], i: int) -> list[tuple[int, Hit | None, frozenset[str]]]:
        """Keyword or courtesy pieces starting at word i: (end, keyword hit or None, languages)."""
        out: list[tuple[int, Hit | None, frozenset[str]]] = []
        key = ""
        for end in range(i + 1, min(len(words), i + self.max_segment_words) + 1):
            key += words[end - 1]
            if key not in self.prefixes:  # no keyword or courtesy word goes on like this
                break
            hit = self.exact.get(key)
            if hit is not None:
                out.append((end, hit, hit.languages))
            elif key in self.courtesy:
                out.append((end, None, self.courtesy[key]))
        return out

    def _courtesy(self, words: tuple[str, ...]) -> tuple[Hit, frozenset[str]] | None:
        # state per position: (best keyword hit so far, languages of the courtesy words seen)
        states: dict[int, tuple[Hit | None, frozenset[str]]] = {0: (None, frozenset())}
        for i in range(len(words)):
            if i not in states:
                continue
            best, langs = states[i]
            for end, hit, piece_langs in self._segments(words, i):
                new_best, new_langs = best, langs
                if hit is None:
                    new_langs = _narrow(langs, piece_langs)
                elif best is None or PRIORITY[hit.intent] < PRIORITY[best.intent]:
                    new_best = hit
                old = states.get(end)
                if old is None or (new_best is not None and (old[0] is None or
                                   PRIORITY[new_best.intent] < PRIORITY[old[0].intent])):
                    states[end] = (new_best, new_langs)
        final = states.get(len(words))
        if final is None or final[0] is None:
            return None
        # Courtesy words are more telling than an international keyword ("STOP bitte" is German).
        kw_langs, courtesy_langs = final[0].languages, final[1]
        return final[0], (kw_langs & courtesy_langs) or courtesy_langs or kw_langs

    def _guarded(self, words: tuple[str, ...], start: int) -> bool:
        for gap in range(self.settings.guard_window):
            end = start - gap
            for size in range(1, self.max_guard_words + 1):
                if end - size >= 0 and words[end - size : end] in self.guards:
                    return True
        return False

    def _phrase(self, n: Normalized) -> Hit | None:
        words = n.words
        if self.other_channels and not self.other_channels.isdisjoint(words) and self.sms_words.isdisjoint(words):
            return None
        best: Hit | None = None
        for i, word in enumerate(words):
            for hit in self.phrases.get(word, ()):
                size = len(hit.words)
                if words[i : i + size] == hit.words and not self._guarded(words, i):
                    if best is None or PRIORITY[hit.intent] < PRIORITY[best.intent]:
                        best = hit
        return best

    def _fuzzy_with_courtesy(self, words: tuple[str, ...]) -> tuple[Hit, float, frozenset[str]] | None:
        # One unknown word, everything else courtesy: find where the prefix and suffix segment.
        outside = [w for w, word in enumerate(words) if word not in self.courtesy_pieces]
        if len(outside) > 1:  # two words that are no part of a courtesy word: not a typo of a keyword
            return None
        best: tuple[tuple[int, float, int], Hit, float, frozenset[str]] | None = None
        for w in outside or range(len(words)):
            word = words[w]
            if len(word) < 3 or word in self.never_fuzzy or not word.isalpha():  # as fuzzy() would
                continue
            if not (self._only_courtesy(words[:w]) and self._only_courtesy(words[w + 1 :])):
                continue
            found = self.fuzzy(word)
            if found is not None and (best is None or found[0] < best[0]):
                best = found
        if best is None:
            return None
        return best[1], best[2], best[3]

    def _only_courtesy(self, words: tuple[str, ...]) -> bool:
        ends = {0}
        for i in range(len(words)):
            if i in ends:
                ends.update(end for end, hit, _ in self._segments(words, i) if hit is None)
        return len(words) in ends

    def fuzzy(self, word: str) -> tuple[tuple[int, float, int], Hit, float, frozenset[str]] | None:
        """Best keyword within the edit budget of ``word``, ranked (distance, -score, intent)."""
        fz = self.settings.fuzzy
        if len(word) < 3 or word in self.never_fuzzy:
            return None
        candidates: list[tuple[str, int]] = []
        same = self.squeezed.get(squeeze(word))
        if same is not None:
            candidates.append((same, 0))
        for size, budget in self.fuzzy_sizes.get(len(word), ()):
            keys = self.fuzzy_by_first.get((size, word[0]), [])
            if word[1] != word[0]:
                swapped = self.fuzzy_by_two.get((size, word[1] + word[0]))
                keys = sorted(keys + swapped) if swapped else keys
            found: list[tuple[int, int, str]] = []
            for i, key in keys:
                dist = OSA.distance(word, key, score_cutoff=budget)
                if dist > budget:
                    continue
                if size < fz.typo_model_below and not is_typo(word, key, fz.drop_letter_from):
                    continue
                found.append((dist, i, key))
            # Nearest first, then file order: the order rapidfuzz's process.extract gave.
            candidates.extend((key, dist) for dist, _, key in sorted(found))
        best = None
        for key, dist in candidates:
            score = float(fuzz.ratio(word, key))
            if dist and score < fz.min_score:
                continue
            hit = self.fuzzy_hits[key]
            rank = (dist, -score, FUZZY_PRIORITY.get(hit.intent, 9))
            if best is None or rank < best[0]:
                best = (rank, hit, score, hit.languages)
        return best


def _narrow(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    """Languages consistent with both pieces; if they disagree, keep both (ambiguous)."""
    if not a:
        return b
    if not b:
        return a
    return (a & b) or (a | b)
