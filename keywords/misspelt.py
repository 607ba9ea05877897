"""A misspelt word in an otherwise clear request: the message is read as it would be spelt right.

    the one unknown word is                    example                    read as
    a misspelt opt-out keyword                 "please unsuscribe me"     "please unsubscribe me"
    a misspelt SMS word                        "stop sending me mesages"  "... messages"
    a misspelt listed form of an opt-out verb  "отпешите меня"            "отпишите меня"

One sentence, no question; the fuzzy tier's typo model (and, for words of five letters or more, one
vowel spelt by ear); protected words never match; the corrected message must be an opt-out.

A word written without its vowels ("stp txting me", "sms istmyrm") is read as the opt-out keyword
or listed form with the same consonants (without_vowels), in any sentence of a message that is no
question, unless it is a word of the language all the other words share ("merci stp").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from keywords.clauses import SPLIT, TRAILING, decide
from keywords.fuzzy import VOWELS, Ranked, consonants
from keywords.hits import OPT_OUT_SECTIONS, Hit
from keywords.normalize import Normalized, analyse
from keywords.typos import is_typo, sounds_alike

if TYPE_CHECKING:
    from keywords.matcher import Matcher


def misspelt_request(m: Matcher, text: str, n: Normalized) -> tuple[Hit, float, frozenset[str]] | None:
    """One misspelt opt-out keyword among request words or beside an SMS object ("please unsuscribe
    me", "stpo texting me"): the message read with the keyword it is a typo of decides, as it would
    spelt right; one sentence, no question, and the typo model of the fuzzy tier (protected words
    never match). A misspelt re-subscribe keyword so read only asks for START."""
    words = n.words
    if n.question or len(words) < 2 or SPLIT.search(text.rstrip(TRAILING)) is not None:
        return None
    v = m.vocab
    unknown = [i for i, w in enumerate(words) if w not in v.request and w not in v.objects_alone and w not in m.pieces]
    if len(unknown) != 1 or not words[unknown[0]].isalpha():
        return None
    i = unknown[0]
    found = m.fuzzy(words[i])
    if found is not None and found[1].intent in _RESUBSCRIBE:
        return _misspelt_resubscribe(m, words, i, found)
    if found is None or found[1].intent not in OPT_OUT_SECTIONS:
        return _misspelt_word(m, words, i, m.sms_typo_targets) or _misspelt_form(m, words, i)
    fixed = " ".join((*words[:i], *found[1].words, *words[i + 1 :]))
    decided = decide(m, fixed, analyse(fixed))
    if decided is None or decided.hit.intent not in OPT_OUT_SECTIONS:
        return None
    # The corrected word must be what decides: "à la fin du mois" without "mois" is already FIN.
    rest = " ".join((*words[:i], *words[i + 1 :]))
    if (without := decide(m, rest, analyse(rest))) is not None and without.hit.intent in OPT_OUT_SECTIONS:
        return None
    return decided.hit, found[2], decided.languages


_RESUBSCRIBE = frozenset({"opt_in", "ask"})


def _misspelt_resubscribe(m: Matcher, words: tuple[str, ...], i: int,
                          found: Ranked) -> tuple[Hit, float, frozenset[str]] | None:
    """A misspelt re-subscribe keyword among request words ("strat again", "susbcribe me"): an ask
    for START when the message spelt right re-subscribes or asks, as a typo of START alone does."""
    fixed = " ".join((*words[:i], *found[1].words, *words[i + 1 :]))
    decided = decide(m, fixed, analyse(fixed))
    if decided is None or decided.hit.intent not in _RESUBSCRIBE:
        return None
    hit = decided.hit
    return Hit("ask", hit.rule, hit.languages, hit.words), found[2], decided.languages


def _misspelt_word(m: Matcher, words: tuple[str, ...], i: int,
                   targets: dict[str, list[str]]) -> tuple[Hit, float, frozenset[str]] | None:
    """The one unknown word is a misspelt SMS word ("stop sending me mesages", "stop textng me") or
    a misspelt listed form of an opt-out verb ("отпешите меня", "odhlste me"): the message read with
    the target word decides, when that makes it an opt-out. Five letters or more, the fuzzy tier's
    typo model or one vowel spelt by ear, never a protected word ("testing" is not "texting")."""
    word = words[i]
    if len(word) < 5 or word in m.never_fuzzy:
        return None
    drop = m.settings.fuzzy.drop_letter_from
    for target in targets.get(word[0], ()):
        if abs(len(target) - len(word)) <= 1 and (is_typo(word, target, drop) or sounds_alike(word, target)):
            fixed = " ".join((*words[:i], target, *words[i + 1 :]))
            decided = decide(m, fixed, analyse(fixed))
            if decided is not None and decided.hit.intent in OPT_OUT_SECTIONS:
                return decided.hit, float(fuzz.ratio(word, target)), decided.languages
    return None


def _misspelt_form(m: Matcher, words: tuple[str, ...], i: int) -> tuple[Hit, float, frozenset[str]] | None:
    """The one unknown word is a misspelt listed form of an opt-out verb ("отпешите меня", "odhlste
    me"), of the language of the request words around it ("ik stop met roken" is no Hindi "rokein"),
    and the slip is not in its last letter, where a form is more often another inflection of the
    verb than a typo ("den mporw na stamatisw" is "I can't stop", not the imperative "stamatise")."""
    word, v = words[i], m.vocab
    around = frozenset().union(*(v.request.get(w, frozenset()) for w in (*words[:i], *words[i + 1 :])))
    targets = {word[0]: [t for t in m.form_typo_targets.get(word[0], ())
                         if t[-1] == word[-1] and not (around and m.stems.listed[t].hit.languages.isdisjoint(around))]}
    return _misspelt_word(m, words, i, targets)


def without_vowels(m: Matcher, text: str, n: Normalized) -> tuple[Hit, float, frozenset[str]] | None:
    """A word written without its vowels, txt-speak style ("stp txting me", "sms istmyrm"), read as
    the opt-out keyword or listed form with its consonants: no vowel after the first letter, three
    letters or more, Latin script, no question, and the message read so must be a request the
    clauses decide. A word the other words' common language knows stays itself ("merci stp" is
    French for "thanks, please")."""
    words = n.words
    if n.question or len(words) < 2:
        return None
    # The fewest vowels put back first ("pls stp": "stp" is "stop" before "pls" is any longer word).
    options = sorted((len(target) - len(word), i, target) for i, word in enumerate(words)
                     if len(word) >= 3 and word.isascii() and word.isalpha() and VOWELS.isdisjoint(word[1:])
                     and word not in m.exact and word not in m.protected and not _known_here(m, words, i)
                     for target in m.skeletons.get(consonants(word), ()))
    for _, i, target in options:
        fixed = " ".join((*words[:i], target, *words[i + 1 :]))
        decided = decide(m, fixed, analyse(fixed))
        if decided is not None and decided.hit.intent in OPT_OUT_SECTIONS:
            return decided.hit, float(fuzz.ratio(words[i], target)), decided.languages
    return None


def _known_here(m: Matcher, words: tuple[str, ...], i: int) -> bool:
    """``words[i]`` is a request or courtesy word of a language every other (listed) word shares."""
    def langs(w: str) -> frozenset[str]:
        return m.vocab.request.get(w, frozenset()) | m.courtesy.get(w, frozenset())

    own = langs(words[i])
    common: frozenset[str] | None = None
    for w in (*words[:i], *words[i + 1 :]):
        if found := langs(w):
            common = found if common is None else common & found
    return bool(own and common and own & common)
