"""Look-alike letter and digit tables used by normalisation (data, not logic)."""

from __future__ import annotations

# Cyrillic letters that render like a Latin letter (lower case: input is case-folded first).
# Upper-case look-alikes (В, Н, М, Т, К) fold to lower-case forms that do not look alike,
# so they are listed by their folded form too: the decision is per word, by script majority.
CYRILLIC_TO_LATIN: dict[str, str] = {
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "һ": "h",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "ӏ": "l",
}

# Greek letters that render like a Latin letter.
GREEK_TO_LATIN: dict[str, str] = {
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "m", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "σ": "o",
}

# Latin letters that render like a Cyrillic letter (for Cyrillic-majority words).
LATIN_TO_CYRILLIC: dict[str, str] = {
    "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "o": "о",
    "p": "р", "t": "т", "x": "х", "y": "у", "i": "і",
}

# Digits typed for letters inside an otherwise alphabetic word ("ST0P", "5TOP", "СТ0П").
DIGITS_TO_LATIN: dict[str, str] = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"}
DIGITS_TO_CYRILLIC: dict[str, str] = {"0": "о", "3": "з", "4": "ч", "6": "б"}

# Letters without a canonical decomposition that people still type for the plain letter.
EXTRA_FOLDS: dict[str, str] = {
    "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "ŀ": "l",
    "ð": "d", "þ": "th",
    # Cyrillic letters no shipped language uses; in an SMS they are spoofed Latin letters.
    "ѕ": "s", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l",
    # Arabic tatweel only stretches a word.
    "ـ": "",
    # Arabic: alef forms, alef maqsura and teh marbuta are spelled interchangeably in SMS.
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه",
    # Persian and Urdu yeh, keheh and heh, typed on an Arabic keyboard as Arabic yeh, kaf and heh.
    "ی": "ي", "ک": "ك", "ہ": "ه", "ۀ": "ه",
}

# Apostrophes are deleted, so "don't" and "dont" normalise alike and "s'il" stays one word.
APOSTROPHES = "'’ʼ`´‘ʹ"
