"""Reply rendering and linting: what carriers and regulators expect of each reply kind."""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass

from keywords.model import Language, ReplyText, Sender
from keywords.normalize import analyse
from keywords.sms import Encoding, measure

PLACEHOLDERS = frozenset({"brand", "contact", "frequency"})
# CTIA's terms: the replies that (re)start a program or answer HELP state the message frequency
# ({frequency}) and that message and data rates may apply (the language's `rates`).
TERMS_KINDS = ("help", "opt_in", "join", "confirm")
# Placeholders filled when the reply is sent, per reply kind: the kind must use them, no other may.
FILLED_WHEN_SENT: dict[str, frozenset[str]] = {
    "opt_out_clarify": frozenset({"topics"}),
    "opt_out_narrowed": frozenset({"topics"}),
}
# What a reply is measured with: the shipped default topics, numbered as the question lists them.
# A deployment whose topic names are longer sends longer replies than the check measured.
SAMPLE_VALUES = {"topics": "1 offers, 2 news, 3 events"}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LINK = re.compile(
    r"https?://|www\.|\b[\w-]+\.(?:com|net|org|ly|co|io|me|gl|to|us|info|biz|app|link|page|shop|"
    r"store|site|online|xyz|ru|es|de|fr|uk|it|nl|pl|tr|cn|jp|ua|br|pt|mx|ar|eu)\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"\d\s*%|%\s*\d")


@dataclass(frozen=True, slots=True)
class RenderedReply:
    """One reply as a given sender would send it, measured."""

    sender: str
    language: str
    kind: str
    text: str
    line: int
    max_segments: int
    encoding: Encoding


def placeholders(template: str) -> set[str] | None:
    """Names used in ``{...}`` fields; None if the braces are malformed."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        return None


def frequency_of(sender: Sender, lang: Language) -> str:
    """{frequency}: the brand's text for this language, else for every language, else the language's."""
    return sender.frequency.get(lang.code) or sender.frequency.get("") or lang.frequency


def render(reply: ReplyText, sender: Sender, lang: Language) -> str:
    """Fill {brand}, {contact} and {frequency}, keeping {topics} for `fill`; validated at load."""
    kept = {name: "{" + name + "}" for names in FILLED_WHEN_SENT.values() for name in names}
    return reply.text.format_map({**kept, "brand": sender.brand, "contact": sender.contact,
                                  "frequency": frequency_of(sender, lang)})


def fill(text: str, values: dict[str, str]) -> str:
    """Fill the placeholders `render` kept ({topics}) in a rendered reply."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


@functools.lru_cache(maxsize=4096)
def _needle(text: str) -> tuple[str, ...]:
    return analyse(text).words


def _contains(text_words: tuple[str, ...], needle: str) -> bool:
    words = _needle(needle)
    if not words:
        return False
    size = len(words)
    if size == 1:
        return words[0] in text_words
    return any(text_words[i : i + size] == words for i in range(len(text_words) - size + 1))


class Needles:
    """Keywords looked for in a reply's words: one-word keywords in a set, the others by first word."""

    def __init__(self, texts: list[str]) -> None:
        self.single: set[str] = set()
        self.runs: dict[str, list[tuple[str, ...]]] = {}
        for text in texts:
            words = _needle(text)
            if len(words) == 1:
                self.single.add(words[0])
            elif words:
                self.runs.setdefault(words[0], []).append(words)

    def named_in(self, words: tuple[str, ...]) -> bool:
        if not self.single.isdisjoint(words):
            return True
        return any(words[i : i + len(run)] == run for i, w in enumerate(words) for run in self.runs.get(w, ()))


def with_article(section: str) -> str:
    """Section name with its article ("an opt_out", "a help"), for messages to people."""
    return f"{'an' if section[0] in 'aeiou' else 'a'} {section}"


# What each reply kind must name so the person knows how to go on: (section, what it tells, example).
MUST_NAME: dict[str, tuple[tuple[str, str, str], ...]] = {
    "opt_out": (("opt_in", "how to re-subscribe", "START"),),
    "help": (("opt_out", "how to opt out", "STOP"),),
    "join": (("confirm", "how to confirm", "YES"), ("opt_out", "how to opt out", "STOP"),
             ("help", "how to get help", "HELP")),
    "confirm": (("opt_out", "how to opt out", "STOP"), ("help", "how to get help", "HELP")),
    "opt_in": (("opt_out", "how to opt out", "STOP"), ("help", "how to get help", "HELP")),
    "ask": (("opt_in", "how to re-subscribe", "START"),),
    "hint": (("opt_out", "how to opt out", "STOP"),),
    "opt_out_clarify": (("opt_in", "how to re-subscribe", "START"),),
    "opt_out_narrowed": (("opt_out", "how to stop everything", "STOP"),),
}
# Confirmations of an opt-out: no links, no marketing.
OPT_OUT_REPLIES = ("opt_out", "opt_out_all", "opt_out_clarify", "opt_out_narrowed")


def lint(r: RenderedReply, lang: Language, keywords: dict[str, Needles], sender: Sender) -> list[str]:
    """Reasons this rendered reply is not acceptable (empty list when it is); keywords by section."""
    where = f"reply {r.kind} ({r.language}) for sender {r.sender}"
    problems: list[str] = []
    words = analyse(r.text).words
    if r.encoding.segments > r.max_segments:
        filled = sorted(FILLED_WHEN_SENT.get(r.kind, ()))
        sample = "".join(f" with {{{name}}} as '{SAMPLE_VALUES[name]}'" for name in filled)
        problems.append(
            f"{where} is {r.encoding.chars} characters{sample}, {r.encoding.encoding}, {r.encoding.segments} SMS "
            f"segments but the file allows {r.max_segments}; shorten it or add max_segments: "
            f"{r.encoding.segments} to this reply")
    for name in sorted(FILLED_WHEN_SENT.get(r.kind, ())):
        if "{" + name + "}" not in r.text:
            problems.append(f"{where} does not list the {name} (use {{{name}}})")
    if sender.brand and not _contains(words, sender.brand):
        problems.append(f"{where} does not name the brand '{sender.brand}' (use {{brand}})")
    if r.kind in OPT_OUT_REPLIES:
        if _LINK.search(_EMAIL.sub(" ", r.text)):
            problems.append(f"{where} contains a link; an opt-out confirmation must not")
        promo = [w for w, _ in lang.promotional if _contains(words, w)]
        if _PERCENT.search(r.text):
            promo.append("%")
        if promo:
            problems.append(f"{where} contains promotional wording ({', '.join(promo)}); "
                            "an opt-out confirmation must not market")
    if r.kind == "help" and sender.contact and not _contains(words, sender.contact):
        problems.append(f"{where} does not give the contact '{sender.contact}' (use {{contact}})")
    if r.kind in TERMS_KINDS:
        freq = frequency_of(sender, lang)
        if not freq:
            problems.append(f"{where} has no message frequency: set languages.{lang.code}.frequency "
                            "(such as 'Msg freq varies') or the brand's frequency, and use {frequency}")
        elif not _contains(words, freq):
            problems.append(f"{where} does not state the message frequency '{freq}' (use {{frequency}})")
        if not lang.rates:
            problems.append(f"{where} cannot say that rates may apply: set languages.{lang.code}.rates "
                            "to this language's 'Msg&data rates may apply'")
        elif not _contains(words, lang.rates):
            problems.append(f"{where} does not say '{lang.rates}' (the language's rates notice)")
    for section, what, example in MUST_NAME.get(r.kind, ()):
        if section not in keywords or not keywords[section].named_in(words):
            problems.append(f"{where} does not say {what} (name {with_article(section)} keyword such as {example})")
    return problems
