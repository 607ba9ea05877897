"""Normalisation: an edge-case table (mailroom style) and properties that must always hold."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keywords import Rules
from keywords.normalize import _analyse_ascii, _analyse_unicode, analyse, normalize

TABLE = [
    ("padding", "   STOP   ", "stop"),
    ("upper case", "STOP", "stop"),
    ("full width", "ＳＴＯＰ", "stop"),
    ("superscript", "ˢᵗᵒᵖ", "stop"),
    ("cyrillic look-alikes in latin word", "SТОР", "stop"),
    ("greek omicron in latin word", "STΟP", "stop"),
    ("latin look-alikes in cyrillic word", "CTOП", "стоп"),
    ("spaced letters", "S T O P", "stop"),
    ("dotted letters", "s.t.o.p", "stop"),
    ("dashed letters", "S-T-O-P", "stop"),
    ("digit zero", "ST0P", "stop"),
    ("digit five", "5TOP", "stop"),
    ("digit in cyrillic word", "СТ0П", "стоп"),
    ("digits alone stay digits", "12345", "12345"),
    ("an ordinal stays a number", "the 5th text", "the 5th text"),
    ("a time stays a number", "at 3am", "at 3am"),
    ("a number with a unit stays a number", "10pm 2x", "10pm 2x"),
    ("repeated letters", "STOOOOP", "stop"),
    ("korean emoticon apart from the word", "수신거부ㅡㅡ", "수신거부 \u1173\u1173"),
    ("thai letter repeated for emphasis", "ยกเลิกกกก", "ยกเลก"),
    ("thai double letter kept", "ยกเลิกกัน", "ยกเลกกน"),
    ("double letter kept", "STOPP", "stopp"),
    ("surrounding punctuation", "«stop!!!»", "stop"),
    ("quotes", "\"'stop'\"", "stop"),
    ("emoji with skin tone", "stop 👋🏽", "stop"),
    ("zwj sequence", "👨‍👩‍👧 stop", "stop"),
    ("variation selector", "❤️stop", "stop"),
    ("zero width space inside", "s\u200bt\u200bop", "stop"),
    ("bom", "\ufeffstop", "stop"),
    ("combining strike-through", "s̶t̶o̶p̶", "stop"),
    ("accents folded", "ARRÊT", "arret"),
    ("yo folded", "Ёлка", "елка"),
    ("turkish dotted capital", "İPTAL", "iptal"),
    ("polish l", "WYŁĄCZ", "wylacz"),
    ("german sharp s", "Straße", "strasse"),
    ("apostrophe", "don't", "dont"),
    ("curly apostrophe", "don’t", "dont"),
    ("whitespace runs", "stop \t\n  now", "stop now"),
    ("arabic alef forms", "إلغاء", "الغاء"),
    ("arabic tatweel", "إيقـــاف", "ايقاف"),
    ("persian keheh and yeh fold to arabic kaf and yeh", "کنید ی", "كنيد ي"),
    ("urdu heh goal folds to heh", "ہے", "هے"),
    ("han split into words", "请 退订", "请退订"),
    ("katakana half width", "ｽﾄｯﾌﾟ", "ストップ"),
    ("thai split into characters, marks dropped", "หยุด ส่ง", "หยดสง"),
    ("devanagari spacing vowel sign inside the word", "रोको", "रोको"),
    ("bengali spacing vowel signs inside the word", "বন্ধ করো", "বনধ করো"),
    ("control characters", "st\x00op\x07", "st op"),
    ("empty", "", ""),
    ("only emoji", "🛑🛑", ""),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in TABLE], ids=[i for i, _, _ in TABLE])
def test_normalize_table(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_thai_and_indic_word_boundaries() -> None:
    assert analyse("ยกเลิกค่ะ").words == tuple("ยกเลกคะ")  # no spaces: one word per character
    assert analyse("मत भेजो").words == ("मत", "भजो")  # the e-matra is non-spacing; the o-matra spaces
    assert analyse("ก ข ค").words == ("ก", "ข", "ค")  # never joined like "S T O P"


def test_question_mark_is_noticed() -> None:
    assert analyse("stop?").question and analyse("¿baja?").question and not analyse("stop").question


@pytest.mark.parametrize("text", ["ǣ", "ǽ", "ǿ"])
def test_letters_folding_to_a_folded_letter_fold_all_the_way(text: str) -> None:
    """"ǣ" decomposes to "æ", which folds to "ae" (found by the property test below)."""
    assert normalize(text) == normalize(normalize(text))


@pytest.mark.parametrize("text", ["μμ0", "μμμ0", "ааа0"])
def test_a_digit_read_as_a_letter_is_folded_with_the_word(text: str) -> None:
    """"μμ0" reads as "μμo", which mixes scripts and folds to "mmo" (found by the property test below)."""
    assert normalize(text) == normalize(normalize(text))


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), min_size=0, max_size=60))
def test_normalize_idempotent_any_codepoint(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("stopSTOP ТОРсто0153.-_!?'\u200b\ufe0f👋🏽 ")), max_size=30).map("".join))
def test_normalize_idempotent_on_tricky_alphabet(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60)
       | st.lists(st.sampled_from(list("stopSTOP0135 .-_!?'`\t\x00")), max_size=30).map("".join))
def test_ascii_shortcut_matches_full_pipeline(text: str) -> None:
    assert _analyse_ascii(text) == _analyse_unicode(text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_classify_never_raises(rules: Rules, text: str) -> None:
    d = rules.classify(text)
    assert d.intent in ("opt_out", "opt_in", "help", "none")
    assert d.to_dict()["normalized"] == d.normalized


CONTROL_OR_KEYWORD = st.characters(categories=["Cc", "Cf", "Cs", "Co", "Zl", "Zp", "Mn"]) | st.sampled_from(
    ["STOP", "s", "t", "o", "p", " ", ".", "YES", "ОТПИСАТЬСЯ", "退订", "\r\n", "\x1b[31m"])


@settings(max_examples=150, deadline=None)
@given(st.lists(CONTROL_OR_KEYWORD, max_size=40).map("".join), st.integers(min_value=1, max_value=3000))
def test_classify_never_raises_on_long_control_text(rules: Rules, piece: str, times: int) -> None:
    text = piece * times  # up to ~100,000 characters of control, format, surrogate and keyword pieces
    assert rules.classify(text).intent in ("opt_out", "opt_in", "help", "none")
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.parametrize(
    "text",
    [
        "x" * 100_000,
        "stop " * 20_000,
        "".join(chr(c) for c in range(0, 0x20)) * 1000,
        "\ud800\udfff lone surrogates",
        "\x00STOP\x00",
        "🛑" * 50_000,
        "退订" * 40_000,
        "s t o p " * 10_000,
    ],
    ids=["100k-letters", "stop-repeated", "control-chars", "surrogates", "nul-stop", "emoji-100k", "cjk-80k", "spaced"],
)
def test_classify_survives_hostile_input(rules: Rules, text: str) -> None:
    assert rules.classify(text).intent in ("opt_out", "opt_in", "help", "none")
    normalize(text)
