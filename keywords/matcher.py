"""Compiled matching tiers: every table is built once at load, classify only looks things up.

Tiers, tried in this order; the first that decides wins (mailroom style)::

    tier      message shape                               example                    needs_review
    --------  ------------------------------------------  -------------------------  ------------
    exact     the whole message is one keyword            "STOP", "S.T.O.P", "退订"  no
    shape     a keyword repeated inside one word, or a    "STOPSTOP", "🛑", "🚫 pls"  no (emoji:
              stop emoji alone or with request words                                 yes)
    courtesy  only keywords and courtesy words (of any    "stop please", "STOP lang  no
              language); a repeated keyword any number    po", "STOP STOP ... STOP"
              of times
    phrase    per clause: a listed phrase, not guarded    "pls stop texting me"      yes
    request   per clause: a keyword in any inflection     "I'd like to opt out",     yes
              with request words only, or an opt-out      "отпишитесь пожалуйста",
              verb then an SMS object (request.py)        "stop the sale txts"
    fuzzy     one word (plus courtesy) within the edit    "STPO", "UNSUSCRIBE",      yes
              budget of a keyword, not a protected word;  "Dtop", "HLEP",
              or one misspelt opt-out keyword or SMS      "please unsuscribe me",
              word in one sentence that, spelt right, the "stpo texting me",
              tiers above take as an opt-out              "stop sending me mesages"
              (misspelt.misspelt_request)
    (none)    anything else: a keyword inside an ordinary sentence never counts

Clauses (split at punctuation and conjunctions) and how they combine: keywords/clauses.py.

Keyword + words the file does not know (the hard case; zero false opt-outs first)::

    message                      result  why
    ---------------------------  ------  --------------------------------------------------------
    "STOP lang po", "stop pls"   opt_out every other word is a courtesy word of some language
    "stop it now", "End it"      opt_out every other word is a request word (request tier)
    "cancel netflix",            none    one unknown word may name what to cancel: an order, a
      "bus stop", "STOP sign"            booking, a street; the consent path may offer "Reply
                                         STOP to unsubscribe", the engine changes nothing
    "stop the netflix texts"     opt_out an unknown word between an opt-out verb and an SMS object
    "482913", auto-replies       none    no keyword, or a keyword inside an ordinary sentence

Tie-breaks::

    situation                                      result
    ---------------------------------------------  ------------------------------------------
    keywords of two intents in one message         opt_out_all > opt_out > opt_in > ask >
      ("STOP START", "help stop", "STOP YES")      join > confirm > help (stopping is the safe
                                                   side of a mistake)
    phrases of two intents in one message          same order
    guard (negation) within guard_window words     that phrase is ignored ("don't stop texting",
      before a phrase                              "no dejen de mandarme promos")
    a word of another channel (email, newsletter)  that clause is ignored ("how do I unsubscribe
      and no SMS word (text, sms) in the message     from the email list?"), unless an SMS word
                                                   is also present
    a question mark                                no effect: a question that asks to stop
                                                   texting ("can you stop texting me?") stops; a
                                                   question about anything else has a word that
                                                   is neither a request word nor an SMS object
                                                   ("how do I stop my dog barking?")
    fuzzy candidates at equal distance             higher rapidfuzz ratio, then opt_out before
                                                   opt_out_all (a typo never widens scope)
    a typo of an opt_in keyword ("STRAT"), or a    opt_in with action ask: one reply asking for
      loose re-subscribe word ("subscribe")        START, no consent change
    keyword listed in several languages            language = None (ambiguous); courtesy words
                                                   of one language break the tie ("STOP bitte")
    an opt-out keyword, then one or two words no   intent none, action hint: no change, and one
      list of the file knows ("STOP xyzzy",        reply saying how to opt out. A known word of
      "cancel netflix"), no question mark          any language decides as usual ("STOP lang po"
                                                   is an opt-out, "STOP laughing" none)

Fuzzy edit budget (settings.fuzzy): by keyword length, default 1-3 letters exact only ("END",
"TD", "DUR"), 4-12 one edit, 13+ two. Keywords shorter than typo_model_below letters accept only
keyboard slips (typos.py, fuzzy.py); the first letter must match unless swapped with the second
or, for an opt-out keyword, a neighbouring key ("DTOP"). Doubled letters are forgiven ("STOPP").
Protected words (per language, e.g. "quite") never match, by typo or by stem. Only intents in
settings.fuzzy.intents are fuzzy-matched; the double opt-in keywords (join: JOIN, confirm: YES)
never are: they have no phrases either.

Speed: a message with a word that is no piece of any keyword or courtesy word skips the courtesy
tier, one with two words that are no piece of a courtesy word skips the fuzzy tier, fuzzy
candidates are looked up by length and first letter(s), stems are computed once per word (cached)
and only by the stemmers of its script.
"""

from __future__ import annotations

from keywords.clauses import decide
from keywords.misspelt import misspelt_request, without_vowels
from keywords.hits import FUZZY_PRIORITY, OPT_OUT_SECTIONS, PRIORITY, Found, Hit, Match, compact, narrow
from keywords.model import HINT
from keywords.normalize import analyse
from keywords.vocabulary import _runs, has_run, run_at
from keywords.tables import Tables

__all__ = ["FUZZY_PRIORITY", "PRIORITY", "Hit", "Match", "Matcher", "compact"]

# 🛑 🚫 ⛔, and 📵 🔕 (no phones, notifications muted); not ✋ 🙅 ❌, which answer "no" as often.
STOP_EMOJI = ("\U0001F6D1", "\U0001F6AB", "\u26D4", "\U0001F4F5", "\U0001F515")


def _period(word: str) -> str | None:
    """The repeated unit of a word made of one piece repeated ("stopstop" -> "stop"), else None."""
    p = (word + word).find(word, 1)
    return word[:p] if p < len(word) else None


class Matcher(Tables):
    """All tiers for one rules file: `classify` decides a message with the `Tables` built when it loaded."""

    # -- tiers ----------------------------------------------------------------------------
    def classify(self, text: str) -> Match:
        text = text[: self.settings.max_message_chars]
        n = analyse(text)
        words = n.words
        if not words:
            return self._emoji(text, n.text) or Match(None, None, 0.0, frozenset(), n.text)
        hit = self.exact.get(compact(words))
        if hit is not None:
            return Match(hit, "exact", 100.0, hit.languages, n.text)
        if len(words) == 1 or not text.isascii():
            shaped = self._shape(text, words, n.text)
            if shaped is not None:
                return shaped
        if words[0] == words[-1] and len(set(words)) == 1 and (hit := self.exact.get(words[0])) is not None:
            return Match(hit, "courtesy", 100.0, hit.languages, n.text)  # "STOP" any number of times
        if len(words) <= self.settings.max_courtesy_words and self.pieces.issuperset(words):
            found = self._courtesy(words)
            if found is not None:
                return Match(found[0], "courtesy", 100.0, found[1], n.text)
        decided = decide(self, text, n)
        if decided is not None:
            return Match(decided.hit, decided.tier, 100.0, decided.languages, n.text, decided.matched)
        if self.fuzzy_buckets and len(words) <= self.settings.max_courtesy_words:
            fuzzy = self._fuzzy_with_courtesy(words)
            if fuzzy is not None:
                hit = fuzzy[0]
                if hit.intent == "opt_in":  # a typo never re-subscribes by itself: ask for START
                    hit = Hit("ask", hit.rule, hit.languages, hit.words)
                return Match(hit, "fuzzy", fuzzy[1], fuzzy[2], n.text)
        if self.fuzzy_buckets and (fuzzy := misspelt_request(self, text, n) or without_vowels(self, text, n)):
            return Match(fuzzy[0], "fuzzy", fuzzy[1], fuzzy[2], n.text)
        return (None if n.question else self._hint(words, n.text)) or Match(None, None, 0.0, frozenset(), n.text)

    def _hint(self, words: tuple[str, ...], normalized: str) -> Match | None:
        """An opt-out keyword followed by one or two unknown words: answered with how to opt out."""
        if not 2 <= len(words) <= 3 or (hit := self.exact.get(words[0])) is None or hit.intent not in OPT_OUT_SECTIONS:
            return None
        # a number is never a word the file knows, even when a campaign name holds it ("promo 12.12")
        if not self.known.isdisjoint(w for w in words[1:] if not w.isdigit()) or any(
                self.stems.lookup(w) is not None for w in words[1:]):
            return None
        return Match(Hit(HINT, hit.rule, hit.languages, (words[0],)), "shape", 0.0, hit.languages, normalized)

    def mentions(self, name: str, words: tuple[str, ...]) -> bool:
        """An entry of the list ``name`` (other_channels, sms_words) is in ``words``: a one-word entry,
        a run of words, or a CJK entry (one word per character) in the run of their characters."""
        single, cjk = (self.other_channels, self.other_channels_cjk) if name == "other_channels" else (
            self.sms_words, self.sms_cjk)
        if not single.isdisjoint(words):
            return True
        if has_run(self.channel_runs[name], self.channel_anchors[name], words):
            return True
        return not self.cjk_firsts.isdisjoint(words) and any(k in "".join(words) for k in cjk)

    def may_decide(self, words: tuple[str, ...]) -> bool:
        """Cheap test before clauses: some word starts a keyword, phrase or opt-out verb, or inflects one."""
        return not self.triggers.isdisjoint(words) or self.stems.any_form(words)

    def help_clause(self, words: tuple[str, ...], whole: bool = False) -> Found | None:
        """A clause that is a help keyword, alone or with courtesy or request words or SMS objects ("what
        is this? help", "can you help me", "help with these texts"), or, when it is the ``whole`` message,
        about no other topic and with no opt-out keyword after, that begins with a help keyword of two
        words or more, not a help word and a request word ("who is this and why do you text me"; not
        "help me find the store"): a help reply is harmless, so request words, and what follows a help
        question, may stand by it."""
        if self.help_anchors.isdisjoint(words) and not self.stems.any_form(words):
            return None
        hit = self.exact.get(compact(words))
        if hit is None and len(words) <= self.settings.max_courtesy_words and self.pieces.issuperset(words):
            hit = (self._courtesy(words) or (None, None))[0]
        if hit is None:  # "necessito ajuda amb aquests missatges": SMS objects may stand by it too
            rest = tuple(w for w in words if w not in self.vocab.request and w not in self.vocab.objects_alone)
            hit = self.exact.get(compact(rest)) if 0 < len(rest) < len(words) else None
            if hit is None and len(rest) == 1 and (form := self.stems.lookup(rest[0])) is not None:
                hit = form.hit  # "potrzebuję pomocy": an inflected help keyword
            if hit is not None and self._holds_opt_out(words):
                hit = None
        if hit is None and whole and not has_run(self.vocab.topics, self.vocab.topic_anchors, words):
            # "who is this and why do you have my number?": a help question begins the message
            hit = next((h for j in range(min(len(words) - 1, self.max_keyword_words), 1, -1)
                        if (h := self.exact.get(compact(words[:j]))) is not None and h.intent == "help"
                        and (j > 2 or words[1] not in self.vocab.request)  # not "help me find the store"
                        and not any(self._opts_out(w) for w in words[j:])  # not "qui es? para"
                        and self._goes_on_asking(words, j)), None)
        return Found(hit, "courtesy", None, hit.languages) if hit is not None and hit.intent == "help" else None

    def _goes_on_asking(self, words: tuple[str, ...], j: int) -> bool:
        """What follows a help question is another question joined to it ("... and why do you text
        me"), asks for help again ("con quién puedo hablar para una duda") or is about the texts or
        the number ("who is this texting my number"), not words that make it another question
        ("who is this for", "what is this sale about")."""
        rest = words[j:]
        return (bool(run_at(self.conjunctions, words, j)) or not self.help_anchors.isdisjoint(rest)
                or has_run(self.vocab.objects, self.vocab.object_anchors, rest) or self.mentions("sms_words", rest))

    def _holds_opt_out(self, words: tuple[str, ...]) -> bool:
        """An opt-out keyword of one or more words stands among ``words`` (Punjabi "menu koi sms na
        bhejo" is "send me no SMS", not English MENU with request words)."""
        return any(hit is not None and hit.intent in OPT_OUT_SECTIONS
                   for i in range(len(words)) for _, hit, _ in self._segments(words, i))

    def _opts_out(self, word: str) -> bool:
        return (hit := self.exact.get(word)) is not None and hit.intent in OPT_OUT_SECTIONS

    def _emoji(self, text: str, normalized: str) -> Match | None:
        if text.isascii() or not any(e in text for e in STOP_EMOJI):
            return None
        emoji = next(e for e in STOP_EMOJI if e in text)
        return Match(Hit("opt_out", emoji, frozenset(), ()), "shape", 100.0, frozenset(), normalized)

    def _shape(self, text: str, words: tuple[str, ...], normalized: str) -> Match | None:
        """A keyword repeated inside one word ("STOPSTOP"), or a stop emoji beside request words."""
        if len(words) == 1 and (unit := _period(words[0])) is not None:
            hit = self.exact.get(unit)
            if hit is not None and hit.intent in OPT_OUT_SECTIONS:
                return Match(hit, "shape", 100.0, hit.languages, normalized)
        emoji = self._emoji(text, normalized)
        if emoji is None:
            return None
        for i, word in enumerate(words):
            if word not in self.vocab.request and not self._opts_out(word):
                return None
        return emoji

    def _segments(self, words: tuple[str, ...], i: int) -> list[tuple[int, Hit | None, frozenset[str]]]:
        """Keyword or courtesy pieces starting at word i: (end, keyword hit or None, languages)."""
        out: list[tuple[int, Hit | None, frozenset[str]]] = []
        key = ""
        for end in range(i + 1, min(len(words), i + self.max_segment_words) + 1):
            key += words[end - 1]
            if key not in self.prefixes:  # no keyword or courtesy word goes on like this
                break
            hit = self.exact.get(key)
            if hit is not None:
                out.append((end, hit, hit.languages))
            elif key in self.courtesy:
                out.append((end, None, self.courtesy[key]))
        return out

    def _courtesy(self, words: tuple[str, ...]) -> tuple[Hit, frozenset[str]] | None:
        # state per position: (best keyword hit so far, languages of the courtesy words seen)
        states: dict[int, tuple[Hit | None, frozenset[str]]] = {0: (None, frozenset())}
        for i in range(len(words)):
            if i not in states:
                continue
            best, langs = states[i]
            for end, hit, piece_langs in self._segments(words, i):
                new_best, new_langs = best, langs
                if hit is None:
                    new_langs = _narrow(langs, piece_langs)
                elif best is None or PRIORITY[hit.intent] < PRIORITY[best.intent]:
                    new_best = hit
                old = states.get(end)
                if old is None or (new_best is not None and (old[0] is None or
                                   PRIORITY[new_best.intent] < PRIORITY[old[0].intent])):
                    states[end] = (new_best, new_langs)
        final = states.get(len(words))
        if final is None or final[0] is None:
            return None
        # Courtesy words are more telling than an international keyword ("STOP bitte" is German).
        kw_langs, courtesy_langs = final[0].languages, final[1]
        if (final[0].intent in OPT_OUT_SECTIONS and len(kw_langs) <= 2 and courtesy_langs
                and kw_langs.isdisjoint(courtesy_langs) and "en" not in courtesy_langs):
            return None  # "Elég jó" is Hungarian "good enough", not ELÉG with Finnish "jo" (already)
        return final[0], (kw_langs & courtesy_langs) or courtesy_langs or kw_langs

    def guarded(self, words: tuple[str, ...], start: int) -> bool:
        """A guard ends within guard_window words before ``start``."""
        return any(self.guard_ending(words, start - gap) for gap in range(self.settings.guard_window))

    def guard_ending(self, words: tuple[str, ...], end: int) -> int:
        """How many words the longest guard that ends right before ``end`` has, or 0."""
        return max((size for size in range(1, min(end, self.max_guard_words) + 1)
                    if words[end - size : end] in self.guards), default=0)



def _narrow(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    """Languages consistent with both pieces; if they disagree, keep both (ambiguous)."""
    return narrow(a, b)
