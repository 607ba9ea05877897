"""Sentences and clauses: a message is decided clause by clause, then the clauses are combined.

Split at . ! ? ; , : and line breaks (a dot or comma inside a word, as in "s.t.o.p" or "1,000",
splits nothing), at a space between Thai words (Thai writes spaces where others write commas) and at the clause conjunctions of every language (``conjunctions:``: but, pero,
mais, aber, но ...). Per clause, in order: a listed phrase (not guarded), the request tier
(keywords/request.py). Combining::

    clauses                                            result
    -------------------------------------------------  -----------------------------------------
    one clause is an opt-out, none takes it back       opt_out ("Stop sending this stuff. Thank
                                                       you")
    another clause takes it back (keep word, guarded   none ("don't unsubscribe me, I love these";
      opt-out keyword)                                 "I'll leave the email list but keep the texts")
    the opt-out is a bare keyword (no SMS object, no   none ("Stop it, you're making me blush",
      phrase) and a clause is banter (laughter,        "please cancel it, I found it cheaper
      teasing, delight), names another topic (an       elsewhere", "Stop, I'm on my way"); an
      order, a booking: topics), or is none of:        opt-out beside request words, a reason
      request words, a reason (reasons: "I moved",     ("Unsubscribe. I moved away", "Stop. This
      "spam", "who is this"), a negation, an SMS       is spam"), a negation ("I never signed
      object                                           up. Stop.") or an SMS object
    a clause names another channel (email) and no      that clause counts for nothing
      SMS word is anywhere in the message
    a listed phrase in a clause that names another     that phrase stops nothing ("Is there a way
      topic (topics:) and no SMS object                to stop my order", "Remove me from the
                                                       waitlist")
    a clause that decides nothing holds a reason:      split there as at a comma ("Stop who is this",
      a keyword with request words before it or        "not interested stop", "STOP Sent from my
      after it is an opt-out                           iPhone"); topics and banter still take it back
    an opt-out verb with request words only ("delete   opt_out, when an earlier clause named the
      it"), no object of its own                       SMS object ("Where did you get my number?
                                                       Delete it")
    an inflected keyword alone in a question           none ("Cancelled?", "Отменено?")
    a bare keyword asked, and a clause that is only    none ("Unsubscribe? Never!")
      a negation
    several clauses decide                             opt_out_all > opt_out > opt_in > ask; then
                                                       phrase before request
    opt_in / ask by the request tier                   as decided when the message is one clause;
                                                       beside other clauses that all support it
                                                       (request words, a reason: "I changed my
                                                       mind, START") an ask, else nothing
    a clause that is only a HELP keyword (+ courtesy)  help, if no clause decides anything else
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from keywords.hits import OPT_OUT_SECTIONS, PRIORITY, Found, Hit, better
from keywords.normalize import Normalized, analyse, ascii_clauses, unicode_clauses
from keywords.relations import again, supports, takes_back
from keywords.request import keyword_at, only_request, verb_alone, with_object
from keywords.vocabulary import blank_runs, has_run, run_at

if TYPE_CHECKING:
    from keywords.matcher import Matcher

# A dot, comma or colon before a letter or digit splits nothing ("s.t.o.p", "1,000"), except
# before Han or kana, which need no space after punctuation ("退订,谢谢" once "，" is folded).
_STRONG = "!?;…\n\r。！？；，、،؛؟۔।॥"  # a run of these always splits
_WEAK = ".,:"
_WORD_AFTER = r"[^\W_\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
# The same as [strong]+|[weak](?!word), written to begin with one character class: the regex
# engine then skips to the next punctuation mark instead of trying every position.
SPLIT = re.compile(rf"[{re.escape(_STRONG + _WEAK)}](?:(?<=[{re.escape(_STRONG)}])[{re.escape(_STRONG)}]*"
                    rf"|(?<=[{re.escape(_WEAK)}])(?!{_WORD_AFTER}))")
TRAILING = " \t" + _STRONG + _WEAK
_THAI_SPACE = re.compile("(?<=[\u0e01-\u0e5b]) +(?=[\u0e01-\u0e5b])")
_TIER_ORDER = {"phrase": 0, "request": 1}
SINGLE_CLAUSE_INTENTS = frozenset({"opt_out", "opt_out_all", "opt_in", "ask"})


def clauses(m: Matcher, text: str, n: Normalized) -> list[tuple[str, ...]]:
    """The message's clauses as normalised words, split at punctuation, then at conjunctions."""
    if n.folded and _THAI_SPACE.search(n.folded):  # Thai writes no commas: a space ends a clause
        parts = unicode_clauses(text, SPLIT, _THAI_SPACE.sub("\n", n.folded))
    elif SPLIT.search(text.rstrip(TRAILING)) is None:  # at most a final "?" or "!": one clause
        parts = [n.words]
    elif text.isascii():
        parts = ascii_clauses(text, SPLIT)
    else:
        parts = unicode_clauses(text, SPLIT, n.folded)
    if m.conjunctions.keys().isdisjoint(n.words):
        return parts
    out: list[tuple[str, ...]] = []
    for words in parts:
        start = 0
        for i in range(len(words)):
            end = run_at(m.conjunctions, words, i) if i >= start else 0
            if end:
                if words[start:i]:
                    out.append(words[start:i])
                start = end
        if words[start:]:
            out.append(words[start:])
    return out


def about_another_topic(m: Matcher, words: tuple[str, ...]) -> bool:
    """The clause names another topic (an order, a booking) and no SMS object: what a phrase in it stops."""
    v = m.vocab
    if not has_run(v.topics, v.topic_anchors, words):
        return False
    # An object inside a topic is the topic's ("the waiting list"): it names no texts.
    return not has_run(v.objects, v.object_anchors, blank_runs(v.topics, words))


def asked_words(text: str, n: Normalized) -> frozenset[str]:
    """The words of the sentences a question mark ends: it asks its own sentence, not the next one
    ("Who is this? Unsubscribing" requests)."""
    source = n.folded or text
    out: set[str] = set()
    start = 0
    for mark in SPLIT.finditer(source):
        if "?" in mark.group() or "؟" in mark.group():
            out.update(analyse(source[start : mark.start()]).words)
        start = mark.end()
    return frozenset(out)


def phrase(m: Matcher, words: tuple[str, ...]) -> Found | None:
    """The best listed phrase in the clause that no guard cancels (for a re-subscription: no guard
    anywhere in the clause, since texting someone who did not ask is the costly mistake); courtesy
    words inside the phrase are skipped."""
    if m.phrase_anchors.isdisjoint(words):
        return None
    table = m.phrase_runs
    if not m.courtesy.keys().isdisjoint(words):  # "hören Sie bitte auf" is the phrase "hören Sie auf"
        words = tuple(w for w in words if w not in m.courtesy) or words
        table = m.phrases_without_courtesy
    best: Hit | None = None
    negated = not m.single_guards.isdisjoint(words)
    for i, word in enumerate(words):
        # Each phrase is looked up by its anchor (its rarest word) at the anchor's offset.
        for run, hit, offset in table.get(word, ()):
            start = i - offset
            if start >= 0 and words[start : start + len(run)] == run and not m.guarded(words, start) and better(
                    hit, best) and not (negated and hit.intent in ("opt_in", "ask")):
                best = hit
    return Found(best, "phrase", None, best.languages) if best is not None else None


def _rank(f: Found) -> tuple[int, int]:
    return PRIORITY[f.hit.intent], _TIER_ORDER.get(f.tier, 9)


def decide(m: Matcher, text: str, n: Normalized) -> Found | None:
    """Decide each clause and combine them (see the module's table), compounds read as the SMS object
    they end in (Tables.decompound)."""
    return _decide(m, text, n._replace(words=m.decompound(n.words))) if m.may_decide(n.words) else None


def _decide(m: Matcher, text: str, n: Normalized) -> Found | None:
    parts = [m.decompound(words) for words in clauses(m, text, n)]
    several = len(parts) > 1
    # Each clause on its own first: what takes a decision back only matters once a clause decides.
    decided = [_clause(m, words, SINGLE_CLAUSE_INTENTS, n.words, several) for words in parts]
    if any(f is None for f in decided) and not m.vocab.reason_anchors.isdisjoint(n.words):
        parts, decided = _split_at_reasons(m, parts, decided, n.words)
        several = len(parts) > 1
    if several:  # "Where did you get my number? Delete it": the verb's object is in a clause before
        named = False
        for k, words in enumerate(parts):
            if decided[k] is None and named and m.may_decide(words):
                decided[k] = verb_alone(m, words)
            named = named or has_run(m.vocab.objects, m.vocab.object_anchors, words)
    if n.question:  # an inflected keyword alone, asked ("Cancelled?"), reports; it does not request
        asked = asked_words(text, n) if several else frozenset(n.words)
        decided = [None if f is not None and f.matched is not None and len(words) == 1 and words[0] in asked else f
                   for words, f in zip(parts, decided)]
    if all(f is None for f in decided):
        return m.help_clause(parts[0], whole=True) if len(parts) == 1 else None  # "can you help me"
    best: Found | None = None
    taken_back = banter = refused = False
    unsupported = 0  # clauses that neither decide nor support a bare keyword ("Stop, I'm on my way")
    for words, found in zip(parts, decided):
        banter = banter or has_run(m.vocab.banter, m.vocab.banter_anchors, words)
        # "Unsubscribe? Never!": a keyword asked, answered by a bare negation, is not a request.
        refused = refused or (n.question and found is None and bool(words) and not m.single_guards.isdisjoint(words)
                              and all(w in m.single_guards or w in m.courtesy for w in words))
        if takes_back(m, words):
            taken_back = True
            continue
        if found is None:
            unsupported += len(parts) > 1 and not supports(m, words)
        elif best is None or _rank(found) < _rank(best):
            best = found
    if best is not None and best.hit.intent in OPT_OUT_SECTIONS and (
            taken_back or (best.bare and (banter or unsupported or refused))):
        return None
    if best is None and len(parts) == 1:
        best = m.help_clause(parts[0], whole=True)
    if best is not None and best.tier == "request" and several and best.hit.intent in ("opt_in", "ask"):
        # A re-subscribe among other clauses only asks for START, and only if nothing speaks against it:
        # a bare keyword needs every other clause to support it ("Start, I'm on my way" is none), a
        # request that names the texts or says "again" does not ("Predomislila sam se, šaljite mi
        # opet ponude": the change of mind needs no listing).
        if taken_back or banter or (unsupported and best.bare):
            return None
        best = Found(Hit("ask", best.hit.rule, best.hit.languages, best.hit.words), best.tier, best.matched,
                     best.languages, best.bare)
    return best


def _split_at_reasons(m: Matcher, parts: list[tuple[str, ...]], decided: list[Found | None],
                      message: tuple[str, ...]) -> tuple[list[tuple[str, ...]], list[Found | None]]:
    """A clause that decides nothing may be an opt-out run into a reason without punctuation ("Stop who
    is this", "not interested stop", "STOP Sent from my iPhone"): it is split as if a comma stood before
    the reason (the keyword first) or after it (the keyword last), when the other piece is an opt-out."""
    out_parts: list[tuple[str, ...]] = []
    out_decided: list[Found | None] = []
    for words, found in zip(parts, decided):
        pieces = _reason_split(m, words, message) if found is None else None
        if pieces is None:
            out_parts.append(words)
            out_decided.append(found)
        else:
            out_parts += pieces[0]
            out_decided += pieces[1]
    return out_parts, out_decided


def _reason_split(m: Matcher, words: tuple[str, ...], message: tuple[str, ...]
                  ) -> tuple[list[tuple[str, ...]], list[Found | None]] | None:
    v = m.vocab
    if v.reason_anchors.isdisjoint(words):
        return None
    for i in range(len(words)):
        end = run_at(v.reasons, words, i)
        if not end:
            continue
        # The keyword first: "stop | who is this"; the keyword last: "i moved | stop".
        for head, tail, deciding in ((words[:i], words[i:], 0), (words[:end], words[end:], 1)):
            if not head or not tail:
                continue
            piece, others = (head, words[end:]) if deciding == 0 else (tail, words[:i])
            # Besides the reason, its piece has at most one word that is no request word ("who is
            # this", "sent from my iphone"), not a sentence of its own ("my number change request").
            if sum(w not in v.request and w not in v.objects_alone for w in others) > 1:
                continue
            found = _clause(m, piece, SINGLE_CLAUSE_INTENTS, message, True)
            if found is not None and found.hit.intent in OPT_OUT_SECTIONS and found.tier == "request":
                pair: list[Found | None] = [found, None] if deciding == 0 else [None, found]
                return [head, tail], pair
    return None


def _clause(m: Matcher, words: tuple[str, ...], intents: frozenset[str], message: tuple[str, ...],
            several: bool) -> Found | None:
    # Each tier's own cheapest test comes first here (a help keyword's anchor is a trigger too).
    if several and not m.may_decide(words):
        return None
    if several and (help := m.help_clause(words)) is not None:  # "what is this? help"
        return help
    if m.mentions("other_channels", words) and not m.mentions("sms_words", message):
        return None
    found = phrase(m, words) if not m.phrase_anchors.isdisjoint(words) else None
    if found is not None and found.hit.intent in OPT_OUT_SECTIONS:
        if not about_another_topic(m, words):
            return _widened(m, words, found)
        found = None  # "is there a way to stop my order": the phrase is about the order, not the texts
    other = only_request(m, words, intents)
    if other is not None and other.hit.intent in ("opt_in", "ask") and _negated(m, words, other.hit):
        other = None  # "не ме абонирайте", "nie subskrybuj": a negated re-subscribe asks for nothing
    if other is None and not m.vocab.object_anchors.isdisjoint(words):
        other = with_object(m, words)  # "start getting texts again": opt_in > ask
        if other is None and not m.courtesy.keys().isdisjoint(words) and not has_run(
                m.vocab.topics, m.vocab.topic_anchors, words):
            # "hör bitte auf mit den SMS"; a courtesy word left out brings no topic beside its object
            other = with_object(m, tuple(w for w in words if w not in m.courtesy))
    if other is None and found is None and not m.vocab.again_anchors.isdisjoint(words):
        other = again(m, words)  # "I want your texts again": an ask
    return _widened(m, words, other if other is not None and (found is None or _rank(other) < _rank(found)) else found)


def _negated(m: Matcher, words: tuple[str, ...], hit: Hit) -> bool:
    """A guard ends right before a form of ``hit``'s keyword ("nie subskrybuj"), other than a word
    the keyword's own languages use as a request word (Tagalog "ko", "my", is Vietnamese "not")."""
    for i in range(1, len(words)):
        size = m.guard_ending(words, i) if words[i - 1] in m.guard_ends else 0
        if size > 1 or (size == 1 and hit.languages.isdisjoint(m.vocab.request.get(words[i - 1], ()))):
            if (k := keyword_at(m, words, i)) is not None and k[1] is hit:
                return True
    return False


def _widened(m: Matcher, words: tuple[str, ...], found: Found | None) -> Found | None:
    """An opt-out whose clause holds a word of its language that widens it to every sender, as the
    language's STOPALL keyword does ("unsubscribe me from all lists", "bitte alle SMS abbestellen"):
    that keyword decides, the one spelling the same keyword apart first ("unsubscribe from all")."""
    if found is None or found.hit.intent != "opt_out" or m.widening.keys().isdisjoint(words):
        return found
    if not m.vocab.reason_anchors.isdisjoint(words):  # an "all" word inside a reason is an idiom
        words = blank_runs(m.vocab.reasons, words)  # ("une fois pour toutes", "todo dia"), not every sender
    same = next((m.widen[(found.hit.rule, w)] for w in words if (found.hit.rule, w) in m.widen), None)
    if same is not None:
        return Found(same, found.tier, found.matched, (same.languages & found.languages) or same.languages, found.bare)
    for i, word in enumerate(words):
        for h in m.widening.get(word, ()):
            if h.languages & found.languages and (found.tier == "request" or _names_all(m, words, i)):
                return Found(h, found.tier, found.matched, found.languages, found.bare)
    return found


def _names_all(m: Matcher, words: tuple[str, ...], i: int) -> bool:
    """Beyond the request tier (whose clause holds request words only), the widening word ends the
    clause or names an SMS object, straight after it or one word on ("удалите меня из всех ваших
    списков", "unsubscribe me from everything"; not "stop texting me all the time")."""
    objects = m.vocab.objects
    return i == len(words) - 1 or any(j < len(words) and run_at(objects, words, j) for j in (i + 1, i + 2))
