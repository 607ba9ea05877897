"""Whole-file checks run on every load: conflicts, FCC words, replies, and the examples."""

from __future__ import annotations

import functools
from typing import Protocol

from rapidfuzz import process
from rapidfuzz.distance import OSA

from keywords.lint import (FILLED_WHEN_SENT, PLACEHOLDERS, SAMPLE_VALUES, Needles, RenderedReply, fill, lint, placeholders,
                           render, with_article)
from keywords.matcher import compact
from keywords.model import (ACTIONS, CLARIFY_KINDS, FCC_KEYWORDS, INTENTS, REPLY_KINDS, SECTIONS, WORD_LISTS, Entry,
                            Language, ReplyText, RuleFile, Sender)
from keywords.entries import entry_analysis
from keywords.normalize import squeeze
from keywords.sms import measure


class _Decided(Protocol):
    """What the examples check reads of a decision (keywords.rules.Decision)."""

    @property
    def kind(self) -> str: ...
    @property
    def intent(self) -> str: ...
    @property
    def tier(self) -> str | None: ...
    @property
    def rule(self) -> str | None: ...
    @property
    def normalized(self) -> str: ...


class Classifier(Protocol):
    """What the examples check needs of the rules it tests: a classify (keywords.rules.Rules has it)."""

    def classify(self, text: str) -> _Decided: ...

Fail = list[tuple[int, str]]


def vocabulary(rf: RuleFile) -> Fail:
    """Empty entries, one word under two intents, keyword vs courtesy/protected, FCC words."""
    out: Fail = []
    seen: dict[str, Entry] = {}
    for table in ("keywords", "phrases"):
        for lang in rf.languages.values():
            for e in getattr(lang, table):
                words = entry_analysis(e.text).words
                if not words:
                    out.append((e.line, f"{e.intent} {table[:-1]} '{e.text}' is empty after normalisation"))
                    continue
                key = compact(words) if table == "keywords" else " ".join(words)
                other = seen.get(key)
                if other is not None and other.intent != e.intent:
                    kind = table[:-1]
                    out.append((e.line, f"'{e.text}' (normalised '{key}') is {with_article(e.intent)} {kind} here "
                                f"and {with_article(other.intent)} {kind} on line {other.line}"))
                seen.setdefault(key, e)
    for lang in rf.languages.values():
        for name in WORD_LISTS:
            for text, line in getattr(lang, name):
                words = entry_analysis(text).words
                key = compact(words)
                if not key:
                    out.append((line, f"{name} word '{text}' is empty after normalisation"))
                elif name in ("courtesy", "protected") and key in seen and " " not in key:
                    kw = seen[key]
                    out.append((line, f"{name} word '{text}' is also the {kw.intent} keyword on line {kw.line}"))
                elif name in ("request", "qualifiers"):
                    out.extend(_request_is_keyword(text, line, words, seen, name))
                elif name == "everything" and (len(words) > 1 or not any(e.intent == "opt_out_all" for e in lang.keywords)):
                    out.append((line, f"everything word '{text}' must be one word, in a language with an "
                                f"opt_out_all keyword (it widens an opt-out to that keyword)"))
        out.extend(_inflections(lang))
    for word in FCC_KEYWORDS:
        fcc = seen.get(compact(entry_analysis(word).words))
        if fcc is None or fcc.intent != "opt_out":
            out.append((1, f"the FCC opt-out word '{word}' must be an opt_out keyword (it always revokes consent)"))
    return out


def _request_is_keyword(text: str, line: int, words: tuple[str, ...], seen: dict[str, Entry], name: str = "request") -> Fail:
    """Every word of a request (or qualifier) entry counts on its own, so none may be a keyword ("stop" is no
    request word)."""
    for word in (compact(words), *words):
        kw = seen.get(word)
        if kw is not None and kw.intent not in ("join", "confirm"):
            what = "request word" if name == "request" else "qualifier"
            return [(line, f"{what} '{text}' contains '{word}', the {kw.intent} keyword on line {kw.line}: "
                     f"a {what} only surrounds a keyword")]
    return []


def _inflections(lang: Language) -> Fail:
    """An inflection names a keyword of its language and is not itself another language's word list."""
    written = {compact(entry_analysis(e.text).words) for e in lang.keywords}
    out: Fail = []
    for keyword, form, line in lang.inflections:
        if compact(entry_analysis(keyword).words) not in written:
            out.append((line, f"inflections: '{keyword}' is not a keyword of languages.{lang.code}"))
        elif not entry_analysis(form).words:
            out.append((line, f"inflection '{form}' is empty after normalisation"))
    return out


def collisions(rf: RuleFile) -> Fail:
    """An opt-in, JOIN or YES keyword a typo away from an opt-out keyword would flip a STOP into a START."""
    fz = rf.settings.fuzzy
    outs = [e for lang in rf.languages.values() for e in lang.keywords if e.intent in ("opt_out", "opt_out_all")]
    ins = [e for lang in rf.languages.values() for e in lang.keywords if e.intent in ("opt_in", *ACTIONS)]
    out_keys = [(o, ok, squeeze(ok)) for o in outs if (ok := compact(entry_analysis(o.text).words))]
    budget_of = functools.lru_cache(maxsize=None)(lambda length: fz.budget(length) if fz.enabled else 0)

    # Only keys whose lengths differ by no more than the largest budget can be that close, and
    # squeezed-equal keys ("STOPP", "STOP") are found by a lookup: not every pair is compared.
    widest = max((budget_of(len(ok)) for _, ok, _ in out_keys), default=0)
    by_length: dict[int, list[tuple[Entry, str, str]]] = {}
    by_squeezed: dict[str, list[tuple[Entry, str, str]]] = {}
    out: Fail = []
    near_by: dict[tuple[int, int], list[str]] = {}  # (length, reach) -> out keys that could be that close
    entries_of: dict[str, list[tuple[Entry, str, str]]] = {}
    for key in out_keys:
        by_length.setdefault(len(key[1]), []).append(key)
        by_squeezed.setdefault(key[2], []).append(key)
        entries_of.setdefault(key[1], []).append(key)
    for i in ins:
        ik = compact(entry_analysis(i.text).words)
        if not ik:
            continue
        ik_squeezed = squeeze(ik)
        reach = max(widest, budget_of(len(ik)) if i.intent in fz.intents else 0)
        choices = near_by.get((len(ik), reach))
        if choices is None:
            choices = near_by[(len(ik), reach)] = list(dict.fromkeys(
                k[1] for n in range(len(ik) - reach, len(ik) + reach + 1) for k in by_length.get(n, ())))
        # rapidfuzz measures every candidate in C and keeps those within reach; the budget is per pair.
        close = [entries_of[ok] for ok, _, _ in process.extract(ik, choices, scorer=OSA.distance,
                                                                 score_cutoff=reach, limit=None)]
        near = [k for keys in close for k in keys]
        near += [k for k in by_squeezed.get(ik_squeezed, ()) if k not in near]
        for o, ok, ok_squeezed in near:
            if ik == ok:
                continue
            budget = budget_of(len(ok))
            if fz.enabled and i.intent in fz.intents:  # join and confirm never accept typos
                budget = max(budget, budget_of(len(ik)))
            dist = OSA.distance(ik, ok)
            if dist <= budget or ik_squeezed == ok_squeezed:
                out.append((i.line, f"{i.intent} keyword '{i.text}' is {dist} edit(s) from {o.intent} keyword "
                            f"'{o.text}' (line {o.line}): a typo would turn an opt-out into an opt-in"))
    return out


def _senders(rf: RuleFile) -> list[Sender]:
    return [rf.default_sender, *rf.senders.values()]


def reply_templates(rf: RuleFile) -> Fail:
    """Placeholders, completeness per language, and sender languages that exist."""
    out: Fail = []
    if "en" not in rf.languages:
        out.append((1, "languages.en is required: it is the last fallback for every reply"))
    # Replies fall back to the sender's language, so every language answers every kind in use.
    used = {e.intent for lang in rf.languages.values() for e in (*lang.keywords, *lang.phrases)}
    if rf.settings.fuzzy.enabled and "opt_in" in rf.settings.fuzzy.intents:
        used.add("ask")  # a typo of an opt_in keyword earns the ask reply
    needed = [*INTENTS, *(a for a in ACTIONS if a in used)]
    for lang in rf.languages.values():
        missing = [k for k in needed if k not in lang.replies]
        if missing:
            out.append((lang.line, f"languages.{lang.code} has no {', '.join(missing)} reply"))
        # The question and its answer's confirmation go together: a language asks only if it can confirm.
        clarify = [k for k in CLARIFY_KINDS if k in lang.replies]
        if clarify and len(clarify) < len(CLARIFY_KINDS):
            lacking = [k for k in CLARIFY_KINDS if k not in lang.replies]
            out.append((lang.replies[clarify[0]].line, f"languages.{lang.code} has {', '.join(clarify)} but no "
                        f"{', '.join(lacking)} reply (the two go together)"))
    templates: list[tuple[str, ReplyText]] = [item for lang in rf.languages.values() for item in lang.replies.items()]
    for sender in _senders(rf):
        if sender.language not in rf.languages:
            out.append((sender.language_line, f"sender {sender.key}: default language '{sender.language}' "
                        "is not in languages"))
        for code, kinds in sender.replies.items():
            if code not in rf.languages:
                out.append((sender.line, f"sender {sender.key} has replies for unknown language '{code}'"))
            templates.extend(kinds.items())
    for kind, r in templates:
        names = placeholders(r.text)
        allowed = PLACEHOLDERS | FILLED_WHEN_SENT.get(kind, frozenset())
        if names is None:
            out.append((r.line, "reply has unbalanced { } braces (write {{ or }} for a literal brace)"))
        elif names - allowed:
            out.append((r.line, f"{kind} reply uses unknown placeholder(s) {', '.join(sorted(names - allowed))} "
                        f"(allowed: {', '.join(sorted(allowed))})"))
    return out


def rendered_replies(rf: RuleFile) -> list[RenderedReply]:
    """Every reply each sender can send, rendered with that sender's brand and measured."""
    out: list[RenderedReply] = []
    for sender in _senders(rf):
        for code, lang in rf.languages.items():
            for kind in REPLY_KINDS:
                tmpl = sender.replies.get(code, {}).get(kind) or lang.replies.get(kind)
                if tmpl is None:
                    continue
                text = render(tmpl, sender, lang)
                sent = fill(text, SAMPLE_VALUES) if kind in FILLED_WHEN_SENT else text
                out.append(RenderedReply(sender.key, code, kind, text, tmpl.line, tmpl.max_segments, measure(sent)))
    return out


def replies(rf: RuleFile, rendered: list[RenderedReply]) -> Fail:
    """Lint every rendered reply (brand substitution happens first)."""
    words = {intent: Needles([e.text for lang in rf.languages.values() for e in lang.keywords if e.intent == intent])
             for intent in SECTIONS}
    senders = {s.key: s for s in _senders(rf)}
    out: Fail = []
    seen: set[tuple[int, str]] = set()
    for r in rendered:
        for reason in lint(r, rf.languages[r.language], words, senders[r.sender]):
            if (r.line, reason) not in seen:
                seen.add((r.line, reason))
                out.append((r.line, reason))
    return out


def examples(rf: RuleFile, rules: Classifier) -> Fail:
    """Each example must get its intent, like a unit test of the rules; a guard that cancels one is named."""
    out: Fail = []
    guards = [(entry_analysis(text).words, text, line) for lang in rf.languages.values() for text, line in lang.guards]
    for ex in rf.examples:
        d = rules.classify(ex.text)
        if d.kind != ex.intent and not (ex.intent == "none" and d.intent == "none"):  # a hint is none too
            how = f" by {d.tier} rule '{d.rule}'" if d.rule else ""
            out.append((ex.line, f"example '{ex.text}' should be {ex.intent} but is {d.kind}{how} "
                        f"(normalised '{d.normalized}')"))
            if ex.intent in ("opt_out", "opt_out_all") and d.intent != "opt_out":
                words = entry_analysis(ex.text).words
                out.extend((line, f"guard '{text}' cancels the shipped opt-out example '{ex.text}' (line {ex.line})")
                           for g, text, line in guards if g and _has_run(words, g))
    return out


def _has_run(words: tuple[str, ...], run: tuple[str, ...]) -> bool:
    return any(words[i : i + len(run)] == run for i in range(len(words) - len(run) + 1))
