"""Typed, validated contents of a keywords file (what schema.py builds and rules.py compiles)."""

from __future__ import annotations

from dataclasses import dataclass, field

from keywords.brands import Brands

INTENTS = ("opt_out", "opt_out_all", "opt_in", "help")
# Double opt-in: JOIN asks for a confirmation, YES gives it. Keywords only (never phrases, never
# typos); their decisions are opt_in with this action, so the consent path can tell them apart.
# ask: a re-subscribe reached only by a loose word or phrase ("subscribe") or a typo of an opt_in
# keyword ("STRAT"): opt_in with action ask, answered by asking for START, changing nothing.
ACTIONS = ("join", "confirm", "ask")
SECTIONS = (*INTENTS, *ACTIONS)
# Opt-out scope clarification (FCC 47 CFR 64.1200(a)(12)): the STOP confirmation that asks which
# topics the opt-out covers, and the answer's confirmation. Replies only, no keywords; optional
# per language (a language without them falls back like any reply), but each language has both or
# neither. Their {topics} is filled when the reply is sent.
CLARIFY_KINDS = ("opt_out_clarify", "opt_out_narrowed")
# An opt-out keyword followed by one or two words the file does not know ("STOP xyzzy"): no change,
# intent none with action hint, answered once by the hint reply ("Reply STOP to unsubscribe"). Optional.
HINT = "hint"
REPLY_KINDS = (*SECTIONS, *CLARIFY_KINDS, HINT)
OPT_OUT_INTENTS = frozenset({"opt_out", "opt_out_all"})
# The public intent of a decision by the section its keyword is listed under.
PUBLIC_INTENT = {"opt_out": "opt_out", "opt_out_all": "opt_out", "opt_in": "opt_in", "help": "help",
                 "join": "opt_in", "confirm": "opt_in", "ask": "opt_in", HINT: "none"}
# Per-language word lists (text, line), in file order; see keywords.yaml's header for each.
WORD_LISTS = ("courtesy", "guards", "other_channels", "sms_words", "protected", "promotional",
              "request", "objects", "with_object", "refusals", "keep", "banter", "topics", "reasons", "conjunctions",
              "again", "qualifiers", "everything")

# The words the FCC (2024 revocation rule) says always revoke consent, alone or with courtesy.
FCC_KEYWORDS = ("stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe")


@dataclass(frozen=True, slots=True)
class Entry:
    """One keyword or phrase as written in the file; ``intent`` is its section (join/confirm too)."""

    text: str
    line: int
    intent: str
    language: str


@dataclass(frozen=True, slots=True)
class ReplyText:
    """A reply template and how many SMS segments the file allows it."""

    text: str
    line: int
    max_segments: int = 1


@dataclass(slots=True)
class Language:
    """Vocabulary and replies of one language."""

    code: str
    line: int
    name: str = ""
    keywords: list[Entry] = field(default_factory=list)
    phrases: list[Entry] = field(default_factory=list)
    courtesy: list[tuple[str, int]] = field(default_factory=list)
    guards: list[tuple[str, int]] = field(default_factory=list)
    other_channels: list[tuple[str, int]] = field(default_factory=list)
    sms_words: list[tuple[str, int]] = field(default_factory=list)
    protected: list[tuple[str, int]] = field(default_factory=list)
    promotional: list[tuple[str, int]] = field(default_factory=list)
    request: list[tuple[str, int]] = field(default_factory=list)
    objects: list[tuple[str, int]] = field(default_factory=list)
    with_object: list[tuple[str, int]] = field(default_factory=list)
    refusals: list[tuple[str, int]] = field(default_factory=list)
    keep: list[tuple[str, int]] = field(default_factory=list)
    banter: list[tuple[str, int]] = field(default_factory=list)
    topics: list[tuple[str, int]] = field(default_factory=list)
    reasons: list[tuple[str, int]] = field(default_factory=list)
    conjunctions: list[tuple[str, int]] = field(default_factory=list)
    again: list[tuple[str, int]] = field(default_factory=list)
    qualifiers: list[tuple[str, int]] = field(default_factory=list)
    everything: list[tuple[str, int]] = field(default_factory=list)
    # (keyword as written, inflected form, line): forms listed for languages without a stemmer
    inflections: list[tuple[str, str, int]] = field(default_factory=list)
    replies: dict[str, ReplyText] = field(default_factory=dict)
    # CTIA terms every HELP and START/JOIN/YES reply carries: "Msg&data rates may apply" in this
    # language, and the default message frequency ("Msg freq varies") a brand may override.
    rates: str = ""
    frequency: str = ""
    # False until a fluent speaker has approved the replies: an unreviewed language's replies are
    # sent only when neither the sender's language nor English has one (see Rules.reply).
    reviewed: bool = True
    rates_line: int = 0


@dataclass(slots=True)
class Sender:
    """A brand as seen from one sender (the default brand, or a per-sender override)."""

    key: str
    line: int
    brand: str
    contact: str
    language: str
    replies: dict[str, dict[str, ReplyText]] = field(default_factory=dict)
    language_line: int = 0
    # {frequency} per language code ("" for every language); unset: the language's default.
    frequency: dict[str, str] = field(default_factory=dict)
    # ISO country of the program ("CA": Canadian rules for reply languages); None: from the number.
    country: str | None = None


@dataclass(frozen=True, slots=True)
class FuzzySettings:
    """How far a typo may be from a keyword and still count (see matcher.py)."""

    enabled: bool = True
    intents: frozenset[str] = OPT_OUT_INTENTS
    min_score: float = 70.0
    max_edits: tuple[tuple[int, int], ...] = ((1, 0), (4, 1), (13, 2))
    typo_model_below: int = 13
    drop_letter_from: int = 6

    def budget(self, length: int) -> int:
        """Edits allowed for a keyword of ``length`` letters."""
        edits = 0
        for min_len, allowed in self.max_edits:
            if length >= min_len:
                edits = allowed
        return edits


@dataclass(frozen=True, slots=True)
class Settings:
    """Matching settings with safe defaults."""

    fuzzy: FuzzySettings = FuzzySettings()
    max_message_chars: int = 1600
    guard_window: int = 1
    max_courtesy_words: int = 16


@dataclass(frozen=True, slots=True)
class Reason:
    """An unsubscribe reason with labels per language (for the unsubscribe page)."""

    id: str
    labels: dict[str, str]


@dataclass(frozen=True, slots=True)
class Example:
    """A message that must get ``intent``: a section (opt_out_all, join, confirm ...) or ``none``."""

    intent: str
    text: str
    line: int


@dataclass(slots=True)
class RuleFile:
    """Everything read from one keywords file."""

    path: str
    version: str
    settings: Settings
    default_sender: Sender
    senders: dict[str, Sender]
    languages: dict[str, Language]
    reasons: list[Reason]
    examples: list[Example]
    brands: Brands = field(default_factory=Brands)
