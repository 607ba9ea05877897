"""The typo model for short keywords: which single edits a thumb on a phone keyboard makes.

A real word one edit from a keyword ("page" vs PARE, "pasar" vs PARAR) is far more often a
word than a typo, so keywords shorter than ``typo_model_below`` letters accept only:

* two neighbouring letters swapped ("STPO", "TSOP");
* one letter replaced by a key next to it on QWERTY, QWERTZ, AZERTY or ЙЦУКЕН ("STIP");
* one extra letter that repeats or neighbours the letter beside it ("STOPO", "QUITT");
* one letter dropped, for keywords of at least ``drop_letter_from`` letters ("CANCL").

The first letter must match (unless it is swapped with the second), at every length; with
``first_letter`` (opt-out keywords of at least FIRST_LETTER_FROM letters) it may also be a key next
to it ("DTOP"). With ``substitute`` off (HELP: a help reply is harmless, but "INTO" is no "INFO")
only swapped, doubled and dropped letters count.
"""

from __future__ import annotations

from keywords.normalize import normalize

_ROWS = (
    ("qwertyuiop", "asdfghjkl", "zxcvbnm"),        # QWERTY
    ("qwertzuiop", "asdfghjkl", "yxcvbnm"),        # QWERTZ
    ("azertyuiop", "qsdfghjklm", "wxcvbn"),        # AZERTY
    ("йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю"),  # ЙЦУКЕН (Russian)
    ("йцукенгшщзхї", "фівапролджє", "ячсмитьбю"),  # ЙЦУКЕН (Ukrainian)
)


def _neighbours() -> dict[str, frozenset[str]]:
    near: dict[str, set[str]] = {}
    for layout in _ROWS:
        rows = [normalize(row) for row in layout]  # fold like the text: й -> и, ї -> і
        for r, row in enumerate(rows):
            for i, ch in enumerate(row):
                around = {row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)}
                if r > 0:
                    around.update(rows[r - 1][j] for j in (i, i + 1) if 0 <= j < len(rows[r - 1]))
                if r + 1 < len(rows):
                    around.update(rows[r + 1][j] for j in (i - 1, i) if 0 <= j < len(rows[r + 1]))
                near.setdefault(ch, set()).update(around)
    return {ch: frozenset(n) for ch, n in near.items()}


NEIGHBOURS = _neighbours()


def _near(a: str, b: str) -> bool:
    return b in NEIGHBOURS.get(a, frozenset())


FIRST_LETTER_FROM = 4


def is_typo(word: str, keyword: str, drop_letter_from: int, first_letter: bool = False,
            substitute: bool = True) -> bool:
    """True when ``word`` is ``keyword`` with one plausible keyboard slip (see module doc)."""
    lw, lk = len(word), len(keyword)
    if lw == lk:
        diff = [i for i in range(lk) if word[i] != keyword[i]]
        if len(diff) == 1:
            i = diff[0]
            return substitute and (i > 0 or first_letter) and _near(keyword[i], word[i])
        if len(diff) == 2:
            i, j = diff
            return j == i + 1 and word[i] == keyword[j] and word[j] == keyword[i]
        return False
    if lw == lk + 1:  # one extra letter
        for i in range(1, lw):
            if word[:i] + word[i + 1 :] == keyword:
                c, before = word[i], word[i - 1]
                after = word[i + 1] if i + 1 < lw else ""
                if c in (before, after) or _near(before, c) or (after and _near(after, c)):
                    return True
        return False
    if lw == lk - 1 and lk >= drop_letter_from:  # one dropped letter
        return any(keyword[:i] + keyword[i + 1 :] == word for i in range(1, lk))
    return False


# Vowels spelt by ear rather than by key: unstressed е/и and о/а in Russian, и/і in Ukrainian, i/y
# in Latin-script languages ("отпешите", "відпишить", "odhlasyt"). Only for long words checked in
# context (a misspelt inflected verb or SMS word), never for keywords alone.
_SOUND_ALIKE = frozenset({("е", "и"), ("и", "е"), ("о", "а"), ("а", "о"), ("и", "і"), ("і", "и"),
                          ("i", "y"), ("y", "i")})


def sounds_alike(word: str, target: str) -> bool:
    """True when ``word`` is ``target`` with one vowel after the first letter spelt by ear."""
    if len(word) != len(target) or len(word) < 5:
        return False
    diff = [i for i in range(len(word)) if word[i] != target[i]]
    return len(diff) == 1 and diff[0] > 0 and (target[diff[0]], word[diff[0]]) in _SOUND_ALIKE
