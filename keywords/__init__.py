"""Inbound SMS keyword rules: normalise, classify (opt-out/opt-in/help) and pick replies.

Pure Python: imports neither Flask nor SQLAlchemy, so compliance tooling can use it alone.
"""

from __future__ import annotations

from keywords.errors import KeywordsError, RulesError
from keywords.holder import RulesHolder
from keywords.normalize import normalize
from keywords.rules import Decision, Rules, load_rules, parse_rules

__all__ = [
    "Decision",
    "KeywordsError",
    "Rules",
    "RulesError",
    "RulesHolder",
    "load_rules",
    "normalize",
    "parse_rules",
]
