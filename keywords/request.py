"""The request tier: a keyword, in any inflection, surrounded only by a closed class of request words.

Request words are listed per language (``request:`` in keywords.yaml) and count in every language
(mixed-language replies are common); each word of an entry counts on its own. Two shapes::

    shape (single-word SMS objects count as        example                         counts for
    request words)
    ---------------------------------------------  ------------------------------  ---------------
    only keyword forms, request and courtesy       "I'd like to opt out", "End it",  the keyword's
      words, no guard                              "je voudrais me désabonner"       intent
      ... with the last word of an opt_out_all     "unsubscribe from all"          opt_out_all
      keyword made of this keyword and that word
    request words, then an opt-out keyword form    "pls stop the shoe sale txts",  opt_out
      or a with_object word, then an SMS object    "no more of the sale texts",
      (objects: nouns only, not "text") within     "I don't want these texts"
      OBJECT_WINDOW words, then request words
      only; no guard and no second opt-out verb
      between ("no quiero cancelar mis mensajes");
      after a refusal ("don't want", "no quiero")
      only request words between
      ("I don't want to miss these texts": none)

Laughter or banter in another clause (``banter:`` "lol", "you're making me blush") or another topic
(``topics:`` an order, a booking, a payment) takes back a bare keyword clause ("Stop it, you're
making me blush", "please cancel it, I found it cheaper elsewhere"), not one that names an SMS object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keywords.hits import OPT_OUT_SECTIONS, Found, Hit, better, narrow
from keywords.vocabulary import Runs, has_run, run_at

if TYPE_CHECKING:
    from keywords.matcher import Matcher

OBJECT_WINDOW = 6
QUALIFIER_WORDS = 3
"""Words of any kind a qualifier may bring beside an SMS object ("texts about the shoe sale")."""
def keyword_at(m: Matcher, words: tuple[str, ...], i: int) -> tuple[int, Hit, str | None] | None:
    """A keyword (as listed, listed inflection or stem) starting at word ``i``: (end, hit, matched)."""
    if words[i] not in m.prefixes and words[i] not in m.stems.listed_prefixes:
        form = m.stems.lookup(words[i])
        return None if form is None else (i + 1, form.hit, form.matched)
    key = ""
    found: tuple[int, Hit, str | None] | None = None
    for end in range(i + 1, min(len(words), i + m.max_keyword_words) + 1):
        key += words[end - 1]
        if key not in m.prefixes and key not in m.stems.listed_prefixes:
            break
        hit = m.exact.get(key)
        if hit is not None:
            found = (end, hit, None)
        else:
            form = m.stems.listed.get(key)
            if form is not None:
                found = (end, form.hit, form.matched)
    if found is None:
        form = m.stems.lookup(words[i])
        if form is not None:
            return i + 1, form.hit, form.matched
    return found


def only_request(m: Matcher, words: tuple[str, ...], intents: frozenset[str]) -> Found | None:
    """Shape 1: every word is a keyword form of ``intents``, a request word or a courtesy word."""
    # One word that is none of these and is known to inflect no keyword rules the shape out.
    if not m.stems.misses.isdisjoint(set(words).difference(m.pieces, m.request_pieces)):
        return None
    best: tuple[Hit, str | None] | None = None
    langs: frozenset[str] = frozenset()
    i = 0
    request = m.vocab.request
    while i < len(words):
        word = words[i]
        # A request word that starts no keyword needs no keyword lookup.
        k = None if word in request and word not in m.starts else keyword_at(m, words, i)
        if k is not None and k[1].intent in intents:
            if best is None or better(k[1], best[0]):
                best = (k[1], k[2])
            i = k[0]
            continue
        word_langs = request.get(word)
        if word_langs is None:
            if word not in m.vocab.objects_alone:  # "mesaj istemiyorum", "cancel texts"
                return None
            word_langs = frozenset()
        langs = narrow(langs, word_langs)
        i += 1
    if best is None:
        return None
    hit, matched = best
    bare = not has_run(m.vocab.objects, m.vocab.object_anchors, words)
    return Found(hit, "request", matched, (hit.languages & langs) or hit.languages, bare)


def with_object(m: Matcher, words: tuple[str, ...]) -> Found | None:
    """Shape 2: request words, an opt-out verb, an SMS object, then request words only; or, as
    verb-final languages write it, request words and an SMS object before the verb and only request
    words after it ("मेरा नंबर हटाओ", "bu numarayı silin", "광고 문자 차단해 주세요")."""
    if m.vocab.object_anchors.isdisjoint(words):
        return None
    i = 0
    object_before = False
    while i < len(words):
        verb = _opt_out_verb(m, words, i)
        if verb is not None:
            found = _object_after(m, words, verb)
            if found is None and object_before and _only_requests(m, words, verb[0]):
                hit, matched = verb[1], verb[2]
                found = Found(hit, "request", matched, hit.languages)
            return found
        end = run_at(m.vocab.objects, words, i) or _named_object(m, words, i)
        if end:
            object_before, i = True, end
            continue
        if words[i] not in m.vocab.request:
            return None
        i += 1
    return None


def _named_object(m: Matcher, words: tuple[str, ...], i: int) -> int:
    """End of "words, a qualifier, an SMS object" from ``i``, as languages that name the texts before
    the noun write it ("セール の メール", "双十一 的 短信"), with at most QUALIFIER_WORDS words
    before the qualifier and no topic, keep, banter, guard or opt-out verb among them; else 0."""
    v = m.vocab
    for q in range(i + 1, min(len(words), i + 4 * QUALIFIER_WORDS + 1)):
        end = run_at(v.qualifiers, words, q) if words[q] in v.qualifiers else 0
        obj = run_at(v.objects, words, end) if 0 < end < len(words) else 0
        if obj and m.mentions("sms_words", words[end:obj]) and _plain_tail(m, words[:q], i):
            return obj
    return 0


def verb_alone(m: Matcher, words: tuple[str, ...]) -> Found | None:
    """An opt-out verb with only request words around it ("delete it", "usuńcie go"): counts when an
    earlier clause named the SMS object it points back to ("Where did you get my number? Delete it")."""
    v = m.vocab
    for i in range(len(words)):
        verb = _opt_out_verb(m, words, i)
        if verb is not None:
            end, hit, matched = verb
            return Found(hit, "request", matched, hit.languages) if all(w in v.request for w in words[end:]) else None
        if words[i] not in v.request:
            return None
    return None


def _object_after(m: Matcher, words: tuple[str, ...], verb: tuple[int, Hit, str | None]) -> Found | None:
    v = m.vocab
    end, hit, matched = verb
    strict = words[verb[0] - len(hit.words) : end] in v.refusals
    plain = True  # only request words since the verb: a promotional word may stand for the object
    topic = 0  # the end of a topic since the verb: "delete my orders from your database" deletes orders
    for j in range(end, min(len(words), end + OBJECT_WINDOW)):
        obj = run_at(v.objects, words, j) or (_promos(v.promotional, words, j) if plain else 0)
        plain = plain and words[j] in v.request
        if obj and topic and topic != j and not m.mentions("sms_words", words[j:obj]):
            return None  # ... while "stop the order updates" and "stop sending the order texts" stop texts
        topic = run_at(v.topics, words, j) or topic
        if obj:
            # What follows the object stays a request ("... texts please") or says which texts ("... texts
            # about the shoe sale"), not another topic ("stop my subscription box from shipping").
            return Found(hit, "request", matched, hit.languages) if _qualified(m, words, obj) else None
        if (words[j] in m.guard_ends and m.guarded(words, j + 1)) or _second_verb(m, words, j):
            return None  # "no quiero cancelar mis mensajes": a negated opt-out is none
        if strict and words[j] not in v.request:
            # "I don't want to miss these texts": a refusal takes request words only, or a campaign
            # name before the SMS word ("I don't want the weekend promo texts").
            named = _campaign(m, words, j, hit.languages, j == end)
            return Found(hit, "request", matched, hit.languages) if named and _qualified(m, words, named) else None
    return None


def _second_verb(m: Matcher, words: tuple[str, ...], j: int) -> bool:
    """An opt-out verb at ``j`` after the first one, other than a with_object word right before an SMS
    object, which says the same again ("não quero receber mais nenhuma mensagem")."""
    verb = _opt_out_verb(m, words, j)
    if verb is None:
        return False
    end = verb[0]
    return (verb[2] is not None or words[j:end] not in m.vocab.with_object or end >= len(words)
            or not run_at(m.vocab.objects, words, end))


def _promos(promotional: frozenset[str], words: tuple[str, ...], j: int) -> int:
    """End of the promotional words from ``j`` ("coupon", "black friday promos"; three letters or
    more, no CJK or Thai character): right after an opt-out verb and request words they name the
    marketing texts as an SMS object does ("quit sending the black friday deals")."""
    k = j
    while k < len(words) and words[k] in promotional and len(words[k]) > 2 and words[k] < "\u0e00":
        k += 1
    return k if k > j else 0


def _campaign(m: Matcher, words: tuple[str, ...], i: int, languages: frozenset[str], after_verb: bool) -> int:
    """End of a campaign name and the SMS word it names, from ``i``: right ``after_verb`` ("wil geen
    black friday berichten meer") or after a determiner (a word that starts an object of several
    words in the verb's ``languages``: "the", "your") before or at ``i``, at most QUALIFIER_WORDS words, one
    of them promotional (``promotional:`` in any language: "the clearance sale sms", "your black
    friday texts"), that name no other channel, topic, keep or banter word, guard or opt-out verb,
    then an SMS object; else 0. Other words may say something else ("I don't want to miss the sale
    texts": a verb before the determiner)."""
    v = m.vocab
    determiners = v.determiners_of(languages)
    if not after_verb and words[i] not in determiners and (i == 0 or words[i - 1] not in determiners):
        return 0
    for k in range(i + 1, min(len(words), i + QUALIFIER_WORDS + 1)):
        end = run_at(v.objects, words, k)
        # A determiner, then a name, then a promotional object: "the weekly wine offers", not
        # "don't want to miss the offers" (a verb, not a determiner, right after the refusal).
        promos = end and words[i] in determiners and not v.promotional.isdisjoint(words[k:end])
        if end and (promos or m.mentions("sms_words", words[k:end])):  # "promo" may be an object of its own
            name = words[i:k]  # a determiner inside it follows a verb ("dont want miss the sale texts")
            named = (promos or not v.promotional.isdisjoint(name)) and determiners.isdisjoint(name[1:])
            return end if named and _plain_tail(m, name, 0) else 0
    return 0


def _qualified(m: Matcher, words: tuple[str, ...], k: int) -> bool:
    """Words from ``k`` on are request words and SMS objects, or such words, then a qualifier and at
    most QUALIFIER_WORDS other words that say which texts ("los mensajes de la rebaja de verano", "i
    messaggi dei saldi"). A qualifier narrows only an SMS word (texts, messages, SMS: "la suscripción
    de la caja de frutas" is another subscription) or a promotional object, which is the marketing
    texts themselves ("le offerte del Black Friday", "ofertas de celulares"), and its
    words name no other channel ("mensajes de voz"), topic, keep or banter word, guard or opt-out
    verb. One word the file does not know may name the campaign right after an object run that
    holds an SMS word ("tin khuyến mãi Tết", "the sms blasts")."""
    v = m.vocab
    sms, promo = m.mentions("sms_words", words[:k]), not v.promotional.isdisjoint(words[:k])
    # The last object run that holds an SMS word, which a campaign word may follow.
    texts: tuple[int, int] | None = None
    if k and (start := _run_ending(v.objects, words, k)) is not None and m.mentions("sms_words", words[start:k]):
        texts = (start, k)
    while k < len(words):
        qualifier = run_at(v.qualifiers, words, k) if words[k] in v.qualifiers else 0
        if qualifier and (sms or promo):
            return _plain_tail(m, words, qualifier)
        end = run_at(v.objects, words, k)
        if end:
            sms = sms or m.mentions("sms_words", words[k:end])
            promo = promo or not v.promotional.isdisjoint(words[k:end])
            texts = (k, end) if m.mentions("sms_words", words[k:end]) else None
            k = end
        elif words[k] in v.request:
            k += 1
        elif texts is not None and texts[1] == k and _campaign_word(m, words, k):
            texts, k = None, k + 1  # one word naming the campaign after the texts ("tin khuyến mãi Tết")
        else:
            return False
    return True


def _run_ending(runs: Runs, words: tuple[str, ...], k: int) -> int | None:
    """Where a run of ``runs`` that ends at ``k`` starts, if one does."""
    return next((j for j in range(max(0, k - 4), k) if run_at(runs, words, j) == k), None)


def _campaign_word(m: Matcher, words: tuple[str, ...], k: int) -> bool:
    """``words[k]`` may name a campaign: a word of letters the file does not know ("Tết", not
    "back" or "quand"), no topic, channel, guard or opt-out verb."""
    return words[k].isalpha() and words[k] not in m.known and _plain_tail(m, words[: k + 1], k, 1)


def _plain_tail(m: Matcher, words: tuple[str, ...], k: int, limit: int = QUALIFIER_WORDS) -> bool:
    """``words[k:]`` say which texts: at most ``limit`` words that are not request words, and no other
    channel, topic, keep or banter word, guard or opt-out verb among them."""
    v = m.vocab
    tail = words[k:]
    # A CJK or Thai character is a word of its own here: four of them weigh one word.
    if sum(0.25 if len(w) == 1 and w >= "\u0e00" else 1 for w in tail if w not in v.request) > limit:
        return False
    if m.mentions("other_channels", tail) or any(has_run(runs, anchor, tail) for runs, anchor in
                                                 ((v.topics, v.topic_anchors), (v.keep, v.keep_anchors),
                                                  (v.banter, v.banter_anchors))):
        return False
    return not any((words[j] in m.guard_ends and m.guarded(words, j + 1)) or _opt_out_verb(m, words, j) is not None
                   for j in range(k, len(words)))


def _only_requests(m: Matcher, words: tuple[str, ...], k: int) -> bool:
    """Words from ``k`` on are request words and SMS objects only."""
    while k < len(words):
        end = run_at(m.vocab.objects, words, k)
        if end:
            k = end
        elif words[k] in m.vocab.request:
            k += 1
        else:
            return False
    return True


def _opt_out_verb(m: Matcher, words: tuple[str, ...], i: int) -> tuple[int, Hit, str | None] | None:
    if words[i] in m.vocab.request and words[i] not in m.starts:
        return None
    end = run_at(m.vocab.with_object_runs, words, i)
    k = keyword_at(m, words, i)
    if k is not None and k[1].intent in OPT_OUT_SECTIONS and k[0] > end:
        return k  # the longer entry: the keyword "dont want these" over the refusal "dont want"
    return (end, m.vocab.with_object[words[i:end]], None) if end else None
