"""Load a keywords file into Rules: classify inbound text and pick the reply to send."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import os
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any, Literal, cast

import phonenumbers

from keywords import checks
from keywords.errors import RulesError
from keywords.lint import FILLED_WHEN_SENT, RenderedReply, fill, render
from keywords.matcher import Matcher
from keywords.model import ACTIONS, HINT, PUBLIC_INTENT, REPLY_KINDS, Reason, RuleFile, Sender
from keywords.schema import Reader
from keywords.yamlnodes import YamlProblem, parse

Intent = Literal["opt_out", "opt_in", "help", "none"]
Scope = Literal["sender", "all"]
Tier = Literal["exact", "shape", "courtesy", "phrase", "request", "fuzzy"]
Action = Literal["join", "confirm", "ask", "hint"]
REVIEWED_TIERS = frozenset({"phrase", "request", "fuzzy"})
"""Decisions by these tiers are marked needs_review (and a stop emoji's, which has no words)."""


@dataclass(frozen=True)  # no __slots__: classify fills the instance's __dict__ in one call (_decision)
class Decision:
    """What an inbound message means, and why (stored with every consent change)."""

    intent: Intent
    scope: Scope
    language: str | None
    rule: str | None
    tier: Tier | None
    score: float
    normalized: str
    needs_review: bool
    version: str = ""
    action: Action | None = None  # double opt-in: JOIN gives opt_in + join, YES opt_in + confirm;
    # ask: a loose or mistyped re-subscribe, answered by asking for START, changing nothing
    matched: str | None = None  # request tier: the stem or listed inflection that matched the rule

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready explanation of the decision."""
        # Every field is a plain value: no deep copy (dataclasses.asdict) needed, once per message.
        return {name: getattr(self, name) for name in _DECISION_FIELDS}

    @property
    def kind(self) -> str:
        """The section that decided, which is also the reply kind: opt_out_all, join, confirm or the intent."""
        if self.action is not None:
            return self.action
        return "opt_out_all" if self.intent == "opt_out" and self.scope == "all" else self.intent


_DECISION_FIELDS = tuple(field.name for field in fields(Decision))
_new = object.__new__
_setattr = object.__setattr__


def _decision(values: dict[str, Any]) -> Decision:
    """A Decision with every field in ``values``, built without the frozen dataclass' __init__ (one
    object.__setattr__ per field cost an eighth of classifying a message): equal to Decision(**values)."""
    decision = _new(Decision)
    _setattr(decision, "__dict__", values)
    return decision


class Rules:
    """One validated keywords file, compiled for matching; immutable once built."""

    def __init__(self, rf: RuleFile) -> None:
        self.file = rf
        self.version = rf.version
        self.path = rf.path
        self.matcher = Matcher(rf)
        self.reasons: list[Reason] = rf.reasons
        self.languages: tuple[str, ...] = tuple(rf.languages)
        self.rendered: list[RenderedReply] = checks.rendered_replies(rf)
        self._replies = {(r.sender, r.language, r.kind): r.text for r in self.rendered}
        self._none = asdict(Decision("none", "sender", None, None, None, 0.0, "", False, self.version))

    def named(self, path: str) -> Rules:
        """These compiled rules as read from another file of the same content."""
        clone = copy.copy(self)
        clone.file = dataclasses.replace(self.file, path=path)
        clone.path = path
        return clone

    def classify(self, text: str) -> Decision:
        """Decide the intent of one inbound message; never raises for any str."""
        try:
            m = self.matcher.classify(text if isinstance(text, str) else str(text))
        except Exception:  # noqa: BLE001 - a classifier bug must not drop an inbound message
            return Decision("none", "sender", None, None, None, 0.0, "", True, self.version)
        if m.hit is None:
            return _decision({**self._none, "normalized": m.normalized})
        section = m.hit.intent
        scope: Scope = "all" if section == "opt_out_all" else "sender"
        language = next(iter(m.languages)) if len(m.languages) == 1 else None
        action = cast("Action | None", section if section in ACTIONS or section == HINT else None)
        review = m.tier in REVIEWED_TIERS or (m.tier == "shape" and not m.hit.words)
        return _decision({"intent": PUBLIC_INTENT[section], "scope": scope, "language": language, "rule": m.hit.rule,
                          "tier": m.tier, "score": round(m.score, 2), "normalized": m.normalized,
                          "needs_review": review, "version": self.version, "action": action, "matched": m.matched})

    def sender(self, sender: str | None) -> Sender:
        """The brand settings for a sender scope string; unknown senders get the default brand."""
        if sender is not None and sender in self.file.senders:
            return self.file.senders[sender]
        return self.file.default_sender

    def reply_languages(self, language: str | None, sender: str | None) -> tuple[str, ...]:
        """The languages a reply is looked up in, best first.

        The message's language, else the sender's, else English; a language whose replies no fluent
        speaker has approved (``reviewed: false``) comes after those. A Canadian program (the
        brand's ``country: CA``, else a +1 number in Canada) answers in English or French only, by
        the message (CWTA: STOP and HELP in English, ARRET and AIDE in French), whatever its
        default language: a message in no single language (STOP is English and French) gets English.
        """
        s = self.sender(sender)
        if country_of(s, sender) == "CA":
            chain: tuple[str | None, ...] = ("fr" if language == "fr" else "en", "en")
        else:
            chain = (language, s.language, "en")
        langs = self.file.languages
        named = tuple(dict.fromkeys(c for c in chain if c is not None and c in langs))
        return (*(c for c in named if langs[c].reviewed), *(c for c in named if not langs[c].reviewed))

    def reply(self, kind: str, language: str | None, sender: str | None, topics: str | None = None) -> str | None:
        """Reply text for ``kind`` in the first of `reply_languages` that has one.

        ``topics`` fills {topics} in the kinds that list them (opt_out_clarify, opt_out_narrowed).
        """
        if kind not in REPLY_KINDS:
            raise ValueError(f"unknown reply kind {kind!r}; expected one of {', '.join(REPLY_KINDS)}")
        if (topics is not None) != (kind in FILLED_WHEN_SENT):
            raise ValueError(f"topics are given with, and only with, the {' and '.join(FILLED_WHEN_SENT)} replies")
        s = self.sender(sender)
        for lang in self.reply_languages(language, sender):
            text = self._replies.get((s.key, lang, kind))
            if text is not None:
                return text if topics is None else fill(text, {"topics": topics})
        return None

    def reply_for(self, decision: Decision, sender: str | None) -> str | None:
        """Reply for a decision (its kind: intent, scope and action); None when the intent is none.

        A hint (intent none) is the exception: the one reply that tells how to opt out.
        """
        if decision.intent == "none" and decision.action != HINT:
            return None
        return self.reply(decision.kind, decision.language, sender)

    def render(self, kind: str, language: str, sender: str | None) -> str | None:
        """Render a template directly (no fallback); for tools."""
        s = self.sender(sender)
        tmpl = s.replies.get(language, {}).get(kind) or self.file.languages[language].replies.get(kind)
        return render(tmpl, s, self.file.languages[language]) if tmpl else None


@lru_cache(maxsize=4096)
def _region(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed)


def country_of(s: Sender, sender: str | None) -> str | None:
    """The program's country: the brand's ``country`` setting, else the sender number's region."""
    if s.country:
        return s.country
    if sender and sender.startswith("+") and sender[1:].isdigit():
        return _region(sender)
    return None


def version_of(data: bytes) -> str:
    """Content hash recorded with every decision."""
    return "sha256:" + hashlib.sha256(data).hexdigest()[:16]


def parse_rules(data: bytes | str, filename: str = "<string>") -> Rules:
    """Validate and compile a keywords file's content; raises RulesError listing every problem.

    The same content compiles once per process, under any name: Rules are immutable, and every
    app built in one process (the test suite builds hundreds, many from copies of one file) shares
    the compiled tables; a copy under another name differs only in the path it reports.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    rules = _COMPILED.get(raw)
    if rules is None:
        rules = compile_rules(raw, filename)  # a file with problems raises here, naming this file
        if len(_COMPILED) >= 8:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[raw] = rules
    return rules if rules.path == filename else rules.named(filename)


_COMPILED: dict[bytes, Rules] = {}
"""Compiled rules by file content, oldest first (at most eight)."""


def compile_rules(raw: bytes, filename: str = "<string>") -> Rules:
    """parse_rules without the per-process cache: what a hot reload of a changed file costs."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RulesError([(filename, line, "the file is not UTF-8 text")]) from None
    try:
        root = parse(text)
    except YamlProblem as exc:
        raise RulesError([(filename, exc.line, exc.reason)]) from None
    reader = Reader(filename)
    rf = reader.read(root, version_of(raw))
    problems = list(reader.problems)
    if not problems:
        for found in (checks.vocabulary(rf), checks.collisions(rf), checks.reply_templates(rf)):
            problems.extend((filename, line, reason) for line, reason in found)
    if problems:
        raise RulesError(sorted(problems, key=lambda p: p[1]))
    rules = Rules(rf)
    found = checks.replies(rf, rules.rendered) + checks.examples(rf, rules)
    if found:
        raise RulesError([(filename, line, reason) for line, reason in sorted(found)])
    return rules


def load_rules(path: str | os.PathLike[str]) -> Rules:
    """Read, validate and compile the keywords file at ``path``; raises RulesError."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise RulesError([(name, 0, f"cannot read the file: {exc.strerror or exc}")]) from None
    return parse_rules(data, name)
