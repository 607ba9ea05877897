"""The fuzzy tier: one word (plus courtesy words) within the edit budget of a keyword.

Kept apart from matcher.py, which mixes it in; see matcher.py's docstring for the budget and
typos.py for the keyboard slips short keywords accept. Per intent::

    intent                 slips accepted                                     decision
    ---------------------  -------------------------------------------------  ------------------
    opt_out, opt_out_all   swapped, neighbouring key (also the first letter   opt_out
                           from FIRST_LETTER_FROM letters: "DTOP"), doubled,
                           dropped from drop_letter_from letters
    opt_in                 as opt_out, but never the first letter; dropped    opt_in, action ask
                           from HELP_DROP_FROM letters                        ("STRAT", "STRT")
    help                   swapped, doubled, dropped from HELP_DROP_FROM      help ("HLEP", "HEP")
                           letters; no substituted letter ("INTO" is a word)
"""

from __future__ import annotations

import re

from typing import TYPE_CHECKING

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from keywords.hits import FUZZY_PRIORITY, OPT_OUT_SECTIONS, Hit
from keywords.model import Settings
from keywords.normalize import analyse, squeeze
from keywords.typos import FIRST_LETTER_FROM, NEIGHBOURS, is_typo

if TYPE_CHECKING:
    from keywords.stems import StemIndex
    from keywords.vocabulary import Vocabulary

HELP_DROP_FROM = 4
Ranked = tuple[tuple[int, float, int], Hit, float, frozenset[str]]


def _is_cjk_free(word: str) -> bool:
    return analyse(word).words == (word,)


VOWELS = frozenset("aeiou")


def consonants(word: str) -> str:
    """``word`` without its vowels (y counts as a consonant: "istmyrm" keeps it)."""
    return "".join(c for c in word if c not in VOWELS)


def accepts(hit: Hit, word: str, key: str, drop_letter_from: int) -> bool:
    """The typo model for one intent (see the module's table); the first letter already matched or is swapped."""
    if hit.intent == "help":
        return is_typo(word, key, HELP_DROP_FROM, substitute=False)
    if hit.intent in ("opt_in", "ask"):  # answered with a question (ask), never a re-subscription: "STRT"
        return is_typo(word, key, HELP_DROP_FROM)
    return is_typo(word, key, drop_letter_from)


class FuzzyTier:
    """Mixed into Matcher: the fuzzy tables and lookups."""

    settings: Settings
    exact: dict[str, Hit]
    protected: set[str]
    courtesy: dict[str, frozenset[str]]
    courtesy_pieces: frozenset[str]
    sms_words: set[str]
    vocab: Vocabulary
    stems: StemIndex

    def _segments(self, words: tuple[str, ...], i: int) -> list[tuple[int, Hit | None, frozenset[str]]]:
        raise NotImplementedError

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
        self._build_sms_typos()
        if not fz.enabled:
            return
        for key, hit in self.exact.items():
            # A typo of a sign-up word ("SUBSCIBE") asks for START as an opt_in typo does.
            typed = hit.intent in fz.intents or (hit.intent == "ask" and "opt_in" in fz.intents and len(key) >= 6)
            if typed and key.isalpha() and _is_cjk_free(key):
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

    def _build_sms_typos(self) -> None:
        """What a misspelt SMS word may be a typo of ("mesages", "textng"): SMS words, and objects and
        request words that hold one ("texting"), of five letters or more, by first letter."""
        self.sms_typo_targets: dict[str, list[str]] = {}
        holds_sms_word = re.compile("|".join(sorted((re.escape(s) for s in self.sms_words if len(s) >= 3),
                                                    key=len, reverse=True)) or "(?!)")
        for word in sorted(self.sms_words | self.vocab.objects_alone | self.vocab.request.keys()):
            if len(word) >= 5 and word.isalpha() and holds_sms_word.search(word):
                self.sms_typo_targets.setdefault(word[0], []).append(word)
        # Opt-out keywords and listed forms by their consonants, for words written without their
        # vowels ("stp", "istmyrm" for "istemiyorum"): Latin script, three consonants or more.
        self.skeletons: dict[str, list[str]] = {}
        spelt = [k for k, h in self.exact.items() if h.intent in OPT_OUT_SECTIONS and len(k) >= 4]
        spelt += [w for w, f in self.stems.listed.items() if f.hit.intent in OPT_OUT_SECTIONS and len(w) >= 5]
        for word in sorted(set(spelt), key=lambda w: (len(w), w)):  # the shortest first: "stop" before "istop"
            if word.isascii() and word.isalpha() and len(skeleton := consonants(word)) >= 3:
                self.skeletons.setdefault(skeleton, []).append(word)
        # ... and what a misspelt inflected opt-out verb may be ("отпешите", "odhlste"): listed forms.
        self.form_typo_targets: dict[str, list[str]] = {}
        listed = self.stems.listed
        for word in sorted({w[0] for w in self.stems.listed_words if len(w) == 1}):
            form = listed.get(word)
            if form is not None and form.hit.intent in OPT_OUT_SECTIONS and len(word) >= 5 and word.isalpha():
                self.form_typo_targets.setdefault(word[0], []).append(word)

    def _fuzzy_with_courtesy(self, words: tuple[str, ...]) -> tuple[Hit, float, frozenset[str]] | None:
        # One unknown word, everything else courtesy: find where the prefix and suffix segment.
        if len(set(words).difference(self.courtesy_pieces)) > 1:
            return None  # two words that are no part of a courtesy word: not a typo of a keyword
        outside = [w for w, word in enumerate(words) if word not in self.courtesy_pieces]
        if len(outside) > 1:  # ... or one of them twice
            return None
        best: Ranked | None = None
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

    def fuzzy(self, word: str) -> Ranked | None:
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
                if size < fz.typo_model_below and not accepts(self.fuzzy_hits[key], word, key, fz.drop_letter_from):
                    continue
                found.append((dist, i, key))
            if size == len(word) and FIRST_LETTER_FROM <= size < fz.typo_model_below:
                found.extend(self._first_letter_slips(word, size))
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


    def _first_letter_slips(self, word: str, size: int) -> list[tuple[int, int, str]]:
        """Opt-out keywords whose first letter is a key next to the word's ("DTOP" for STOP)."""
        out: list[tuple[int, int, str]] = []
        for near in NEIGHBOURS.get(word[0], ()):
            for i, key in self.fuzzy_by_first.get((size, near), ()):
                if word[1:] == key[1:] and self.fuzzy_hits[key].intent in OPT_OUT_SECTIONS:
                    out.append((1, i, key))
        return out
