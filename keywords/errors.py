"""Exceptions raised by the keywords package.

Hierarchy::

    Exception
     └── KeywordsError          base of everything this package raises on purpose
          ├── RulesError        a rules file was refused; .problems lists (file, line, reason)
          └── CorpusError       a labelled corpus row is malformed: "file:line: reason"

``Rules.classify`` never raises; only loading (``load_rules``, ``RulesHolder`` on its
first load) and ``Rules.reply`` with an unknown kind raise.
"""

from __future__ import annotations

Problem = tuple[str, int, str]


class KeywordsError(Exception):
    """Base class for errors raised by the keywords package."""


class RulesError(KeywordsError):
    """A keywords file was refused; each problem names file, line and reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        return "\n".join(f"{file}:{line}: {reason}" for file, line, reason in self.problems)

    def __str__(self) -> str:
        return self._render()


class CorpusError(KeywordsError):
    """A labelled corpus (keywords.evaluate) has a malformed row; the message names file and line."""
