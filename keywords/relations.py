"""How a clause bears on the others: re-subscribe asked by an `again` word, a clause that supports a
bare keyword beside it, and a clause that takes every other clause's opt-out back.

A clause that takes an opt-out back (a keep word: "keep the texts", or a guard right before an
opt-out keyword form: "don't unsubscribe me") cancels every other clause's opt-out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keywords.hits import OPT_OUT_SECTIONS, Found, Hit, narrow
from keywords.request import keyword_at
from keywords.vocabulary import has_run, run_at

if TYPE_CHECKING:
    from keywords.matcher import Matcher


def again(m: Matcher, words: tuple[str, ...]) -> Found | None:
    """Shape 3, re-subscribe only: an `again` word and an SMS object, a promotional word or a
    re-subscribe keyword form, with only request words and at most one unknown word (the verb) beside
    them ("I want your texts again", "quiero recibir mensajes otra vez", "šaljite mi opet ponude"): an
    ask, answered by asking for START, which changes nothing."""
    v = m.vocab
    if not has_run(v.again, v.again_anchors, words) or not _plain_again(m, words):
        return None
    seen_again, seen_object, langs, unknown = None, False, frozenset[str](), 0
    i = 0
    while i < len(words):
        end = run_at(v.again, words, i)
        if end:
            seen_again = words[i:end]
            i = end
            continue
        end = run_at(v.objects, words, i)
        if end:
            seen_object, i = True, end
            continue
        k = None if words[i] in v.request and words[i] not in m.starts else keyword_at(m, words, i)
        if k is not None and k[1].intent in ("opt_in", "ask"):
            seen_object, i = True, k[0]
            continue
        if k is None and words[i] in v.promotional:  # "send me your offers again"
            seen_object, i = True, i + 1
            continue
        if words[i] not in v.request:
            # One word the file does not know, the verb ("присылайте", "šaljite"): an ask changes nothing.
            unknown += 1
            if unknown > 1 or k is not None or len(words[i]) < 3 or not words[i].isalpha():
                return None
            i += 1
            continue
        langs = narrow(langs, v.request[words[i]])
        i += 1
    if seen_again is None or not seen_object:
        return None
    code = frozenset({v.again_langs[seen_again]})
    return Found(Hit("ask", " ".join(seen_again), code, seen_again), "request", " ".join(seen_again), (code & langs) or code)


def _plain_again(m: Matcher, words: tuple[str, ...]) -> bool:
    """No guard ("never send me offers again"), other channel, topic or opt-out verb in the clause."""
    v = m.vocab
    # A guard that is a request word too is another language's ("ko": Vietnamese "not", Tagalog "I").
    if m.mentions("other_channels", words):
        return False
    if any(w in m.single_guards and w not in v.request and w not in m.exact for w in words):
        return False
    if any(m.guard_ending(words, end) > 1 for end in range(2, len(words) + 1)):
        return False  # a guard of several words ("не ме абонирайте пак") is no other language's word
    if has_run(v.topics, v.topic_anchors, words):
        return False
    return not any(run_at(v.with_object_runs, words, i) for i, w in enumerate(words) if w in v.with_object_runs)


def supports(m: Matcher, words: tuple[str, ...]) -> bool:
    """A clause that leaves a bare keyword beside it an opt-out: request words only, a reason people
    give for opting out (``reasons``: "this is spam", "I moved", "who is this"), a negation ("I never
    signed up") or an SMS object."""
    v = m.vocab
    if not m.single_guards.isdisjoint(words) or has_run(v.reasons, v.reason_anchors, words):
        return True
    return has_run(v.objects, v.object_anchors, words) or all(w in v.request or w in v.objects_alone for w in words)


def takes_back(m: Matcher, words: tuple[str, ...]) -> bool:
    """A keep word ("keep the texts") or a guard right before an opt-out keyword ("don't unsubscribe")."""
    if has_run(m.vocab.keep, m.vocab.keep_anchors, words) and _keeps(m, words):
        return True
    if m.guard_words.isdisjoint(words):
        return False
    for i in range(1, len(words)):
        if words[i - 1] in m.guard_ends and m.guarded(words, i):
            k = keyword_at(m, words, i)
            if k is not None and k[1].intent in OPT_OUT_SECTIONS:
                return True
    return False


def _keeps(m: Matcher, words: tuple[str, ...]) -> bool:
    """A keep run that is not inside a listed reason: "why do you keep sending me these" complains
    (the reason "you keep"), "keep sending them" keeps."""
    v = m.vocab
    inside = set[int]()
    if not v.reason_anchors.isdisjoint(words):
        for i in range(len(words)):
            inside.update(range(i, run_at(v.reasons, words, i)))
    return any(run_at(v.keep, words, i) for i in range(len(words)) if i not in inside)
