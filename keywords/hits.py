"""What the matching tiers hand each other: a table entry's decision and a classification's outcome."""

from __future__ import annotations

from dataclasses import dataclass

PRIORITY = {"opt_out_all": 0, "opt_out": 1, "opt_in": 2, "ask": 3, "join": 4, "confirm": 5, "help": 6}
FUZZY_PRIORITY = {"opt_out": 0, "opt_out_all": 1, "opt_in": 2, "ask": 2, "help": 3}
OPT_OUT_SECTIONS = frozenset({"opt_out", "opt_out_all"})


@dataclass(frozen=True, slots=True)
class Hit:
    """What a table entry decides: intent (opt_out_all kept apart), the rule as written, languages."""

    intent: str
    rule: str
    languages: frozenset[str]
    words: tuple[str, ...]


@dataclass(slots=True)  # internal and short-lived: a frozen dataclass costs a microsecond per message
class Match:
    """The outcome of one classification before it becomes a public Decision."""

    hit: Hit | None
    tier: str | None
    score: float
    languages: frozenset[str]
    normalized: str
    matched: str | None = None
    """The stem or listed inflection that matched (request tier), else None."""


@dataclass(slots=True)
class Found:
    """A clause's decision: the hit, its tier, the stem or form matched, and the languages."""

    hit: Hit
    tier: str
    matched: str | None
    languages: frozenset[str]
    bare: bool = False
    """A keyword with request words only and no SMS object ("Stop it"): banter elsewhere takes it back."""


def compact(words: tuple[str, ...] | list[str]) -> str:
    """Key for keyword tables: words joined without spaces ("opt out" == "optout")."""
    return "".join(words)


def better(a: Hit, b: Hit | None) -> bool:
    """True when ``a`` wins the tie-break over ``b`` (stopping is the safe side of a mistake)."""
    return b is None or PRIORITY[a.intent] < PRIORITY[b.intent]


def narrow(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    """Languages consistent with both pieces; if they disagree, keep both (ambiguous)."""
    if not a:
        return b
    if not b:
        return a
    return (a & b) or (a | b)
