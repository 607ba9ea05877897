"""Text normalisation for keyword matching: one idempotent, never-raising pipeline.

Steps, in order (each exists because real opt-out replies look like that):

1. NFKC and case folding: "ＳＴＯＰ", "ˢᵗᵒᵖ", "STOP" -> "stop".
2. Per character: delete zero-width/format characters, variation selectors, emoji skin-tone
   modifiers, tag characters, apostrophes and combining marks; fold accents on Latin, Greek and
   Cyrillic letters ("ARRÊT" -> "arret", "ё" -> "е"); fold Arabic alef/yeh/teh-marbuta forms.
   Kana and Han are left alone (their marks change the word). Folding is for matching only.
3. Split into words; anything that is not a letter or digit (punctuation, quotes, emoji,
   whitespace runs) separates words. Han, kana and Thai characters are one word each, since
   those scripts do not separate words with spaces.
4. Per word: look-alike letters are mapped to the word's majority script ("SТОР" with Cyrillic
   ТОР -> "stop"); digits inside an otherwise alphabetic word become letters ("ST0P", "5TOP");
   runs of three or more equal letters shrink to one ("STOOOOP" -> "stop").
5. Runs of three or more single letters join into one word ("S T O P", "s.t.o.p", "S-T-O-P").

Speed: ASCII text (most SMS) takes a shorter path with the same result (a property test holds
the two paths together); steps 2 and 3 are str.translate tables (computed per code point and
bounded) and str.split, not regex scans, and other text remembers them per piece between spaces;
step 4 is remembered per word (all bounded).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from typing import Any, NamedTuple

from keywords.confusables import APOSTROPHES, EXTRA_FOLDS
from keywords.wordfix import MAX_CACHE as _MAX_CACHE
from keywords.wordfix import MAX_CACHED_WORD as _MAX_CACHED_WORD
from keywords.wordfix import fix_word as _fix_word
from keywords.wordfix import fix_words as _fix_words

# Scripts written without spaces between words: one character is one word (Thai's vowel and tone
# marks are deleted with the other combining marks in step 2, on both sides of every match).
_CJK_RANGES = ((0x0E00, 0x0E7F), (0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
               (0xF900, 0xFAFF))
_CJK = "".join(f"{chr(first)}-{chr(last)}" for first, last in _CJK_RANGES)
_CJK_BOUNDS = tuple(bound for first, last in _CJK_RANGES for bound in (first, last + 1))
# Spacing vowel signs of the Indic scripts (Devanagari to Sinhala) are letters' parts, not breaks:
# "रोको" is one word, as its writer sees it.
_SPACING_MARKS = "".join(chr(cp) for cp in range(0x0900, 0x0E00) if unicodedata.category(chr(cp)) == "Mc")
_TOKEN = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_]|[{_SPACING_MARKS}])+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_CJK_RUN = re.compile(rf"[{_CJK}]+")
_HAN_KANA = re.compile("[" + "".join(f"{chr(first)}-{chr(last)}" for first, last in _CJK_RANGES[1:]) + "]+")


class _FoldTable(dict[int, str]):
    """str.translate table computed lazily per code point and cached (bounded)."""

    def __missing__(self, cp: int) -> str:
        value = _fold_char(chr(cp))
        if len(self) < _MAX_CACHE:
            self[cp] = value
        return value


def _is_deleted(ch: str, cat: str) -> bool:
    cp = ord(ch)
    if cat in ("Cf", "Cs", "Co", "Mn", "Me"):
        # Kana voicing marks compose with NFKC and change the word: keep them.
        return cp not in (0x3099, 0x309A)
    if cat == "Sk" and 0x1F3FB <= cp <= 0x1F3FF:  # emoji skin-tone modifiers
        return True
    return ch in APOSTROPHES


def _fold_char(ch: str) -> str:
    if ch in EXTRA_FOLDS:
        return EXTRA_FOLDS[ch]
    cat = unicodedata.category(ch)
    if cat == "Cc":
        return " "
    if _is_deleted(ch, cat):
        return ""
    if cat[0] == "L" and ord(ch) < 0x0530:  # Latin, IPA, Greek, Cyrillic blocks
        base = "".join(EXTRA_FOLDS.get(c, c) for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        return base or ch
    if cat[0] == "L" and 0x1E00 <= ord(ch) <= 0x1FFF:  # Latin/Greek extended (Vietnamese etc.)
        base = "".join(EXTRA_FOLDS.get(c, c) for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        return base or ch
    return ch


_FOLD = _FoldTable()


class _WordTable(dict[int, str]):
    """str.translate table for step 3, lazily per code point (bounded): a character of a word stays,
    a Han, kana or Thai character becomes a word of its own, anything else a space (so that
    str.split() finds the words _TOKEN would, without a regex scan)."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        value = f" {ch} " if _CJK_CHAR.match(ch) else ch if _TOKEN.match(ch) else " "
        if len(self) < _MAX_CACHE:
            self[cp] = value
        return value


_WORDS = _WordTable()
# On ASCII, steps 1 to 3 are one bytes table: lower case, any non-alphanumeric a space (control
# characters fold to spaces, which separate words anyway), apostrophes deleted (their fold is "").
_ASCII_WORDS = bytes(ord(chr(b).lower()) if chr(b).isalnum() and b < 128 else 32 for b in range(256))
_ASCII_DELETED = bytes(b for b in range(128) if _fold_char(chr(b)) == "")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")


def _is_cjk(ch: str) -> bool:
    """A Han, kana or Thai character: a word of its own (one comparison search, no regex)."""
    return bisect_right(_CJK_BOUNDS, ord(ch)) % 2 == 1


def _is_single_letter(w: str) -> bool:
    # Every CJK range starts at U+0E00 or later: below it, no search is needed.
    return len(w) == 1 and w.isalpha() and (w < "\u0e00" or not _is_cjk(w))


_OTHER, _LETTER, _HAN = 0, 1, 2
_KINDS: dict[str, int] = {}
"""One-character words by kind: a letter (that step 5 joins), Han, kana or Thai, other (bounded)."""


def _kind(ch: str) -> int:
    kind = _HAN if _is_cjk(ch) else _LETTER if ch.isalpha() else _OTHER
    if len(_KINDS) < _MAX_CACHE:
        _KINDS[ch] = kind
    return kind


def _join_single_letters(words: list[str]) -> list[str]:
    run_length = 0
    kinds = _KINDS
    for w in words:  # most messages have no run of three single letters: nothing to join
        if len(w) == 1 and (kind if (kind := kinds.get(w)) is not None else _kind(w)) == _LETTER:
            run_length += 1
            if run_length == 3:
                break
        else:
            run_length = 0
    else:
        return words
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= 3:
            out.append(_fix_word("".join(run)))
        else:
            out.extend(run)
        run.clear()

    for w in words:
        if _is_single_letter(w):
            run.append(w)
        else:
            flush()
            out.append(w)
    flush()
    return out


class Normalized(NamedTuple):
    """The words of a message after normalisation, plus what punctuation told us.

    A named tuple, not a frozen dataclass: it is built once per message, and a frozen dataclass'
    __init__ costs as much as finding the words of a short ASCII message.
    """

    words: tuple[str, ...]
    text: str
    question: bool
    folded: str = ""
    """The folded text (non-ASCII only), kept so clauses are split without folding again."""

    # Two analyses are equal by what they found: the ASCII path keeps no folded text.
    def __eq__(self, other: object) -> bool:
        return self[:3] == other[:3] if isinstance(other, Normalized) else NotImplemented

    def __ne__(self, other: object) -> bool:
        return self[:3] != other[:3] if isinstance(other, Normalized) else NotImplemented

    def __hash__(self) -> int:
        return hash(self[:3])


def _render(words: list[str] | tuple[str, ...]) -> str:
    parts: list[str] = []
    prev_cjk = False
    kinds = _KINDS
    for w in words:
        # Han, kana and Thai are one character per word; no longer word begins with one.
        cjk = len(w) == 1 and (kind if (kind := kinds.get(w)) is not None else _kind(w)) == _HAN
        if parts and not (cjk and prev_cjk):
            parts.append(" ")
        parts.append(w)
        prev_cjk = cjk
    return "".join(parts)


def analyse(text: str) -> Normalized:
    """Normalise ``text`` into words; never raises for any str."""
    if not isinstance(text, str):
        text = str(text)
    return _analyse_ascii(text) if text.isascii() else _analyse_unicode(text)


# Steps 2 and 3 per piece between spaces (a space is left alone by both, and NFKC never composes
# across one): words repeat across messages far more than they vary, so each piece is remembered
# (bounded), except a piece with Han, kana or Thai in it, which is a phrase rather than a word.
_FOLDED: dict[str, str] = {}
_TOKENS: dict[str, tuple[str, ...]] = {}


def _cacheable(piece: str, cache: dict[str, Any]) -> bool:
    return len(cache) < _MAX_CACHE and len(piece) <= _MAX_CACHED_WORD and _CJK_CHAR.search(piece) is None


_JAMO_EDGE = re.compile("(?<=[\uac00-\ud7a3])(?=[\u1100-\u11ff])|(?<=[\u1100-\u11ff])(?=[\uac00-\ud7a3])")
_THAI_RUN3 = re.compile("([\u0e01-\u0e2e])\\1{2,}")


def _fold_piece(piece: str) -> str:
    if _HAN_KANA.fullmatch(piece) and unicodedata.is_normalized("NFKC", piece):
        return piece  # step 2 leaves Han and kana alone (and NFKC-normal text stays so)
    folded = unicodedata.normalize("NFKC", piece.translate(_FOLD))
    if not folded.isascii():
        # Korean emoticons are bare jamo written onto a word ("수신거부ㅡㅡ", "그만ㅠㅠ"): apart from it.
        folded = _JAMO_EDGE.sub(" ", folded)
        # Thai repeats a letter for emphasis ("ยกเลิกกกก"); no Thai word has one three times.
        folded = _THAI_RUN3.sub(r"\1", folded)
    if _cacheable(piece, _FOLDED):
        _FOLDED[piece] = folded
    return folded


def _tokens(folded: str) -> list[str]:
    """The words of folded text before step 4, as _TOKEN finds them."""
    get = _TOKENS.get
    tokens: list[str] = []
    for piece in folded.split(" "):
        found = get(piece)
        tokens.extend(found if found is not None else _tokens_of_piece(piece))
    return tokens


def _tokens_of_piece(piece: str) -> tuple[str, ...]:
    if _CJK_RUN.fullmatch(piece):
        return tuple(piece)  # one word per character
    tokens = tuple(piece.translate(_WORDS).split())
    if _cacheable(piece, _TOKENS):
        _TOKENS[piece] = tokens
    return tokens


def _fold_unicode(text: str) -> str:
    try:
        cased = unicodedata.normalize("NFKC", text).casefold()
        get = _FOLDED.get
        return " ".join([found if (found := get(piece)) is not None else _fold_piece(piece)
                         for piece in cased.split(" ")])
    except UnicodeError:  # pragma: no cover - lone surrogates are dropped by the table
        return unicodedata.normalize("NFKC", text.encode("utf-8", "ignore").decode("utf-8").casefold())


def unicode_clauses(text: str, cut: re.Pattern[str], folded: str = "") -> list[tuple[str, ...]]:
    """Any text folded once (or ``folded``, analyse()'s fold of it), then split where ``cut`` matches
    the folded text, each piece into words as analyse() makes them (a full-width "！" or "，" folds
    to the ASCII mark first)."""
    out = []
    for piece in cut.split(folded or _fold_unicode(text)):
        words = _unicode_words(piece)
        if words:
            out.append(tuple(words))
    return out


def _unicode_words(folded: str) -> list[str]:
    words = _fix_words(_tokens(folded))
    if words and min(map(len, words)) == 1:
        words = _join_single_letters(words)
    return words


def _analyse_unicode(text: str) -> Normalized:
    folded = _fold_unicode(text)
    question = "?" in folded or "¿" in folded or "؟" in folded
    words = _unicode_words(folded)
    text_ = _render(words) if _CJK_CHAR.search(folded) else " ".join(words)
    return Normalized(tuple(words), text_, question, folded)


def _analyse_ascii(text: str) -> Normalized:
    """The same steps for ASCII text (most SMS): no Unicode tables, no look-alikes, no CJK."""
    words = _ascii_words(text)
    return Normalized(tuple(words), " ".join(words), "?" in text)  # "¿" and "؟" are not ASCII


def _ascii_words(text: str) -> list[str]:
    words = _fix_words(text.encode().translate(_ASCII_WORDS, _ASCII_DELETED).decode().split())
    # Three single letters in a row ("s t o p") are rare; any single letter ("i", "a") is not.
    if not _ASCII_LETTERS.isdisjoint(words):
        run_length = 0
        for w in words:
            run_length = run_length + 1 if w in _ASCII_LETTERS else 0
            if run_length == 3:
                return _join_single_letters(words)
    return words


def ascii_clauses(text: str, cut: re.Pattern[str]) -> list[tuple[str, ...]]:
    """ASCII text split where ``cut`` matches, each piece normalised as analyse() would."""
    return [tuple(words) for piece in cut.split(text) if (words := _ascii_words(piece))]


def normalize(text: str) -> str:
    """Return the normalised form of ``text``; idempotent: normalize(normalize(x)) == normalize(x)."""
    return analyse(text).text


def squeeze(word: str) -> str:
    """Collapse every run of a repeated character to one ("stopp" -> "stop"), for fuzzy matching."""
    out: list[str] = []
    for ch in word:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)
