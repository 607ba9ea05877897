"""Step 4 of normalisation, per word: look-alike letters to the word's majority script, digits read as letters, long runs squeezed.

"SТОР" with Cyrillic ТОР -> "stop", "ST0P" and "5TOP" -> "stop", "STOOOOP" -> "stop". A pure
function of the word, remembered per word (bounded): words repeat across messages far more than they vary.
"""

from __future__ import annotations

import re

from keywords.confusables import CYRILLIC_TO_LATIN, DIGITS_TO_CYRILLIC, DIGITS_TO_LATIN, GREEK_TO_LATIN, LATIN_TO_CYRILLIC

_RUN3 = re.compile(r"([^\W\d_])\1{2,}")
# A number with a unit or ordinal suffix is a number, not a word spelt with digits ("5th", "3am", "10pm").
_NUMBER = re.compile(r"\d+(?:st|nd|rd|th|am|pm|h|hr|hrs|min|mins|x|k|s)")
MAX_CACHE = 65536
"""How many entries each of normalisation's caches holds at most."""
MAX_CACHED_WORD = 40
"""Longer words and pieces are not remembered."""


def _script(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x0250:
        return "latin"
    if 0x0370 <= cp < 0x0400:
        return "greek"
    if 0x0400 <= cp < 0x0530:
        return "cyrillic"
    return "other"


def _convert(word: str, table: dict[str, str], own: str) -> str | None:
    out = []
    for ch in word:
        if ch.isalpha() and _script(ch) != own:
            mapped = table.get(ch)
            if mapped is None:
                return None
            out.append(mapped)
        else:
            out.append(ch)
    return "".join(out)


def _fix_scripts(word: str) -> str:
    counts: dict[str, int] = {}
    for ch in word:
        if ch.isalpha():
            s = _script(ch)
            counts[s] = counts.get(s, 0) + 1
    if len(counts) < 2 or "other" in counts:
        return word
    latin, cyr, greek = counts.get("latin", 0), counts.get("cyrillic", 0), counts.get("greek", 0)
    if cyr > latin + greek:
        order = ("cyrillic", "latin")
    else:
        order = ("latin", "cyrillic")
    for target in order:
        if target == "latin":
            converted = _convert(word, {**CYRILLIC_TO_LATIN, **GREEK_TO_LATIN}, "latin")
        else:
            converted = _convert(word, LATIN_TO_CYRILLIC, "cyrillic") if not greek else None
        if converted is not None:
            return converted
    return word


def _fix_digits(word: str) -> str:
    letters = [ch for ch in word if ch.isalpha()]
    digits = len(word) - len(letters)
    if not digits or len(letters) < 2 or len(letters) <= digits or _NUMBER.fullmatch(word):
        return word
    table = DIGITS_TO_CYRILLIC if _script(letters[0]) == "cyrillic" else DIGITS_TO_LATIN
    if all(ch.isalpha() or ch in table for ch in word):
        return "".join(table.get(ch, ch) for ch in word)
    return word


def _fix_word_once(word: str) -> str:
    if not word.isascii():
        word = _fix_scripts(word)
    if not word.isalpha():
        word = _fix_digits(word)
    if len(word) > 2:
        word = _RUN3.sub(r"\1", word)
    return word


def _fix_word_uncached(word: str) -> str:
    # One fix can make another possible: a digit read as a letter makes "μμ0" the mixed-script
    # "μμo", which folds to "mmo". Repeat until nothing changes, so normalising twice changes nothing.
    for _ in range(4):
        fixed = _fix_word_once(word)
        if fixed == word:
            break
        word = fixed
    return word


_FIXED: dict[str, str] = {}
_CLEAN: set[str] = set()
"""Words step 4 leaves as they are (most words): a message of only these needs no per-word call."""


def fix_word(word: str) -> str:
    # Words repeat across messages far more than they vary: step 4 is a pure function of the word.
    fixed = _FIXED.get(word)
    if fixed is None:
        fixed = _fix_word_uncached(word)
        if len(_FIXED) < MAX_CACHE and len(word) <= MAX_CACHED_WORD:
            _FIXED[word] = fixed
            if fixed == word:
                _CLEAN.add(word)
    return fixed


def fix_words(words: list[str]) -> list[str]:
    """Step 4 for every word: one set operation when every word is known to stay as it is."""
    return words if _CLEAN.issuperset(words) else [fix_word(w) for w in words]
