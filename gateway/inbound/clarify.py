"""Opt-out scope clarification (FCC 47 CFR 64.1200(a)(12)): ask which topics a STOP covers, take the answer.

GATEWAY_CLARIFY_SCOPE (default false) turns it on, GATEWAY_CLARIFY_HOURS (default 24) is how long an
answer counts, GATEWAY_TOPICS names each sender scope's topics. While on, a message from a phone
number does this (anything not in the table: exactly what it does with clarification off):

    message                        when                                       reply             and
    STOP-style opt-out             >= 2 of the scope's topics not stopped     opt_out_clarify   question opened
                                   before (no '*' opt-out or pause either)    (numbered list)   (replacing one)
                                   otherwise                                  as always         open question closed
    STOPALL-style opt-out          always                                     as always         all questions closed
    intent none, only topic        question open and in time, its opt-out     opt_out_narrowed  topics stopped, the
    numbers/names ("1 3", "news")  still in force, each topic one it offered  (topics named)    '*' lifted ("narrow")
      ... naming every topic       the same                                   opt_out           question closed

The opt-out itself is recorded first and in full (topic '*'), so it covers everything until and
unless an answer narrows it; a late answer, chat or an unknown topic changes nothing and gets no
reply. Keywords (STOP, START, HELP) never reach the answer path: only intent none does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from gateway.messages import InboundMessage
from keywords import Decision, Rules
from keywords.normalize import analyse
from storage import consent, questions
from storage.models import ALL_TOPICS, InboundRow
from storage.types import utcnow

if TYPE_CHECKING:
    from flask import Flask

DEFAULTS: dict[str, Any] = {"CLARIFY_SCOPE": False, "CLARIFY_HOURS": 24}
SOURCE = "scope_answer"
"""The ledger source of the changes an answer makes."""

# Words an answer may hold besides topic numbers and names ("1 and 3", "solo 2", "1和3"), in every
# shipped language; the keyword file's courtesy words ("please", "gracias") are allowed too.
# Never "no" or "stop": "no" may mean "no, stop everything", and an answer is only numbers and names.
JOINERS = (
    "and", "or", "only", "just", "both", "topic", "topics",  # en
    "y", "e", "o", "solo", "solamente", "tema", "temas",  # es
    "et", "ou", "seulement", "uniquement", "sujet", "sujets",  # fr
    "und", "oder", "nur", "thema", "themen",  # de
    "so", "apenas", "somente",  # pt
    "ed", "soltanto", "temi",  # it
    "en", "of", "alleen", "onderwerp", "onderwerpen",  # nl
    "i", "oraz", "lub", "tylko", "temat", "tematy",  # pl
    "и", "или", "только", "тема", "темы",  # ru
    "і", "й", "та", "або", "лише", "тільки", "теми",  # uk
    "ve", "veya", "sadece", "yalnizca", "konu", "konular",  # tr
    "و", "او", "فقط",  # ar
    "和", "与", "及", "或", "只",  # zh
    "と", "や", "だけ", "のみ",  # ja
)
_JOINERS = frozenset(word for text in JOINERS for word in analyse(text).words)
# "1-3" reads as 1, 2 and 3: more stopped than "1 and 3", so the safe reading of a dash.
_RANGE = re.compile(r"(\d+)\s*[-–—]\s*(\d+)")
_MAX_RANGE = 20


def numbered(topics: Sequence[str]) -> str:
    """The list the question shows: '1 offers, 2 news, 3 events'."""
    return ", ".join(f"{number} {topic}" for number, topic in enumerate(topics, 1))


def _expand_ranges(text: str) -> str:
    def expand(match: re.Match[str]) -> str:
        low, high = int(match[1]), int(match[2])
        return " ".join(map(str, range(low, high + 1))) if 0 < high - low <= _MAX_RANGE else match[0]

    return _RANGE.sub(expand, text)


Filler = tuple[str, ...]


def read_answer(body: str, names: Sequence[str], fillers: frozenset[Filler] = frozenset()) -> list[int | str] | None:
    """The topic numbers and names an answer holds, in order; None when it holds anything else (or nothing).

    `names` are the topic names it may use; `fillers` are extra allowed word sequences (courtesy words).
    """
    words = analyse(_expand_ranges(body)).words
    phrases = _phrases(tuple(names), fillers)
    found: list[int | str] = []
    at = 0
    while at < len(words):
        word = words[at]
        if word.isdecimal():
            found.append(int(word))
            at += 1
            continue
        if word in _JOINERS:
            at += 1
            continue
        phrase, name = next(((p, n) for p, n in phrases if p and words[at:at + len(p)] == p), ((), ""))
        if not phrase:
            return None
        if name:  # a topic name; a filler ("please") names nothing
            found.append(name)
        at += len(phrase)
    return found or None


@functools.lru_cache(maxsize=64)
def _phrases(names: tuple[str, ...], fillers: frozenset[Filler]) -> list[tuple[tuple[str, ...], str]]:
    """Topic names (longest first, so "special offers" wins over "offers") then fillers, as word sequences."""
    phrases = sorted({analyse(name).words: name for name in names}.items(), key=lambda item: -len(item[0]))
    return phrases + [(filler, "") for filler in fillers]


@functools.lru_cache(maxsize=8)
def courtesy(rules: Rules) -> frozenset[Filler]:
    """The keyword file's courtesy words ("please", "gracias"), allowed around an answer too."""
    return frozenset(analyse(text).words for lang in rules.file.languages.values() for text, _ in lang.courtesy)


def resolve(found: Sequence[int | str], offered: Sequence[str]) -> list[str] | None:
    """The offered topics the numbers and names stand for, in offered order; None if one is not offered."""
    named: set[str] = set()
    for item in found:
        if isinstance(item, int):
            if not 1 <= item <= len(offered):
                return None
            named.add(offered[item - 1])
        elif item in offered:
            named.add(item)
        else:
            return None
    return [topic for topic in offered if topic in named]


Finish = Callable[[Session, InboundRow], None]
"""What a turn writes once the message is stored (the stored message carries its id and the reply sent)."""


@dataclass(frozen=True)
class Turn:
    """What clarification does with one message: the reply to send, and what to write once it is stored."""

    reply: str | None
    finish: Finish


@dataclass(frozen=True)
class Clarifier:
    """Scope clarification as configured, with the keyword rules in force for its replies."""

    rules: Rules
    window: timedelta
    topics: Mapping[str, Sequence[str]]

    def topics_for(self, scope: str) -> list[str]:
        """The scope's topics (GATEWAY_TOPICS for the scope, else "default"), as gateway.api.links reads them."""
        return list(self.topics.get(scope) or self.topics.get("default") or [])

    def begin(self, session: Session, message: InboundMessage, decision: Decision, reply: str | None) -> Turn | None:
        """The turn this message takes, under the number's lock; None when clarification has nothing to do."""
        if not message.from_.is_phone:
            return None
        now = utcnow()
        if decision.intent == "opt_out":
            if decision.scope == "all":
                return Turn(reply, _closing(message.from_.value, None, "stopall", now))
            return self._ask(session, message, decision, reply, now)
        if decision.intent == "none":
            return self._answer(session, message, now)
        return None

    def _ask(self, session: Session, message: InboundMessage, decision: Decision, reply: str | None,
             now: datetime) -> Turn:
        number, scope = message.from_.value, message.sender_scope
        stopped = {entry.topic for each in message.scopes
                   for entry in consent.suppression_status(session, number, each, now=now).entries}
        offered = [] if ALL_TOPICS in stopped else [t for t in self.topics_for(scope) if t not in stopped]
        question = None
        if len(offered) >= 2:  # "consent for several topics": else there is nothing to clarify
            question = self.rules.reply("opt_out_clarify", decision.language, scope, topics=numbered(offered))
        if question is None:
            return Turn(reply, _closing(number, scope, "opt_out", now))

        def ask(session: Session, received: InboundRow) -> None:
            event_id = questions.whole_opt_out_event(session, received.id, scope)
            if received.reply is None or event_id is None:
                # The reply limits withheld the question: nobody was asked, so no answer can count.
                questions.close(session, number, scope, "opt_out", now)
                return
            questions.ask(session, number, message.scopes, offered, decision.language, event_id, now, now + self.window)

        return Turn(question, ask)

    def _answer(self, session: Session, message: InboundMessage, now: datetime) -> Turn | None:
        scope = message.sender_scope
        found = read_answer(message.body, self.topics_for(scope), courtesy(self.rules))
        if found is None:
            return None  # chat: not even a look at the database
        question = questions.find_open(session, message.from_.value, scope)
        if question is None or question.expires_at <= now or not questions.still_stands(session, question):
            return None
        named = resolve(found, question.topics)
        if not named:
            return None
        if len(named) == len(question.topics):
            # Every topic named: the opt-out already covers them all, and it stays whole.
            kept = self.rules.reply("opt_out", question.language, scope)
            return Turn(kept, _closing_answer(question, "kept_all", now))
        confirmation = self.rules.reply("opt_out_narrowed", question.language, scope, topics=", ".join(named))

        def narrow(session: Session, received: InboundRow) -> None:
            change = consent.ConsentChange(
                number=question.number, scopes=tuple(question.scopes), action="opt_out", source=SOURCE,
                inbound_message_id=received.id, rules_version=self.rules.version,
                explanation={"via": SOURCE, "question": question.id, "asked_event_id": question.asked_event_id,
                             "offered": question.topics, "named": named, "language": question.language},
            )
            consent.narrow(session, change, named)
            _closing_answer(question, "narrowed", now)(session, received)

        return Turn(confirmation, narrow)


def _closing(number: str, scope: str | None, outcome: questions.Outcome, now: datetime) -> Finish:
    def close(session: Session, _received: InboundRow) -> None:
        questions.close(session, number, scope, outcome, now)

    return close


def _closing_answer(question: questions.ScopeQuestion, outcome: questions.Outcome, now: datetime) -> Finish:
    def close(session: Session, received: InboundRow) -> None:
        questions.close(session, question.number, question.sender_scope, outcome, now, answer_message_id=received.id)

    return close


def from_config(config: Mapping[str, Any], rules: Rules) -> Clarifier | None:
    """The clarifier GATEWAY_CLARIFY_SCOPE asks for, or None while it is off."""
    if not config.get("CLARIFY_SCOPE", DEFAULTS["CLARIFY_SCOPE"]):
        return None
    hours = float(config.get("CLARIFY_HOURS", DEFAULTS["CLARIFY_HOURS"]))
    return Clarifier(rules, timedelta(hours=hours), config.get("TOPICS") or {})


def init_app(app: Flask) -> None:
    """The settings' defaults, checked at start: a typo must not switch the question on or off silently."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    if not isinstance(app.config["CLARIFY_SCOPE"], bool):
        raise ValueError("GATEWAY_CLARIFY_SCOPE must be true or false")
    hours = app.config["CLARIFY_HOURS"]
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 24 * 30:
        raise ValueError("GATEWAY_CLARIFY_HOURS must be a number of hours above 0 and at most 720")
