"""Score the rules on a labelled corpus: recall per intent (and per language), false opt-outs, misses.

A corpus is a TSV file, one message a row: `message <TAB> intent <TAB> language <TAB> note`, where
intent is opt_out, opt_out_all (an opt-out of everything: scope `all`), opt_in, help or none, a
line break inside a message is written `\\n`, and lines starting with `#` are comments. The same
file format serves the development set (tuned on), the test set (never tuned on) and a
compliance team's own traffic.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from keywords.errors import CorpusError
from keywords.rules import Decision, Rules

LABELS = ("opt_out", "opt_out_all", "opt_in", "help", "none")
OPT_OUT = frozenset({"opt_out", "opt_out_all"})
SCORED = {"opt_out": OPT_OUT, "opt_in": frozenset({"opt_in"}), "help": frozenset({"help"})}
"""The recall figures: an opt_out_all row counts for opt-out recall whatever scope it got."""


class Row(NamedTuple):
    """One labelled message."""

    message: str
    intent: str
    language: str
    note: str
    line: int = 0


def load_corpus(path: str | Path) -> list[Row]:
    """The rows of a corpus file, or CorpusError naming the file, line and reason."""
    rows = []
    text = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#") or not line.strip("\t "):
            continue
        parts = line.split("\t")
        if len(parts) != 4:
            raise CorpusError(f"{path}:{number}: expected 4 tab-separated fields, found {len(parts)}")
        message, intent, language, note = parts
        if intent not in LABELS:
            raise CorpusError(f"{path}:{number}: intent {intent!r} is not one of {', '.join(LABELS)}")
        rows.append(Row(message.replace("\\n", "\n"), intent, language, note, number))
    return rows


def label(decision: Decision) -> str:
    """A decision as a corpus label: opt_out_all for an opt-out of scope all."""
    return "opt_out_all" if decision.intent == "opt_out" and decision.scope == "all" else decision.intent


@dataclass
class Tally:
    """Rows of one intent (or one intent in one language) and how many the rules got."""

    rows: int = 0
    hits: int = 0

    @property
    def recall(self) -> float:
        return self.hits / self.rows if self.rows else 1.0


@dataclass
class Report:
    """What `evaluate` found."""

    rows: int = 0
    recall: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_language: dict[str, dict[str, Tally]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Tally)))
    false_opt_outs: list[tuple[Row, Decision]] = field(default_factory=list)
    misses: list[tuple[Row, Decision]] = field(default_factory=list)
    """Every other row whose label differs from the rules' (an opt_out answered opt_out_all included)."""

    def language_recall(self, language: str, intent: str) -> Tally:
        return self.by_language[language][intent]


def evaluate(rules: Rules, rows: list[Row]) -> Report:
    """Classify every row and tally recall per intent and language, false opt-outs and misses."""
    report = Report(rows=len(rows))
    for row in rows:
        decision = rules.classify(row.message)
        got = label(decision)
        for intent, accepted in SCORED.items():
            if row.intent in accepted:
                hit = got in accepted
                for tally in (report.recall[intent], report.by_language[row.language][intent]):
                    tally.rows += 1
                    tally.hits += hit
        if got in OPT_OUT and row.intent not in OPT_OUT:
            report.false_opt_outs.append((row, decision))
        elif got != row.intent:
            report.misses.append((row, decision))
    return report


def explain(row: Row, decision: Decision) -> str:
    """One line: where the row is, what it should be, what the rules said and why."""
    why = f"{decision.tier} {decision.rule!r} score {decision.score:.2f}" if decision.rule else "no rule matched"
    return (f"line {row.line} [{row.language}] {row.message!r}: expected {row.intent}, got {label(decision)} "
            f"({why}; normalised {decision.normalized!r})")


def format_report(report: Report, by_language: bool = False, misses: bool = False) -> list[str]:
    """The report as lines for a terminal: recall, every false opt-out, and optionally more."""
    lines = [f"{report.rows} rows"]
    for intent in SCORED:
        tally = report.recall[intent]
        lines.append(f"  {intent} recall {tally.recall:.3f} ({tally.hits}/{tally.rows})")
    lines.append(f"  false opt-outs: {len(report.false_opt_outs)}")
    if by_language:
        lines.append("language  " + "  ".join(f"{intent:>17}" for intent in SCORED))
        for language in sorted(report.by_language):
            cells = [report.language_recall(language, intent) for intent in SCORED]
            lines.append(f"{language:<8}  " + "  ".join(
                f"{c.recall:>7.3f} ({c.hits:>3}/{c.rows:>3})" if c.rows else f"{'-':>17}" for c in cells))
    for row, decision in report.false_opt_outs:
        lines.append("FALSE OPT-OUT " + explain(row, decision))
    if misses:
        lines.extend("MISS " + explain(row, decision) for row, decision in report.misses)
    return lines
