"""The link page's texts per language (YAML files under strings/) and the choice of language."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from flask import request

STRINGS = Path(__file__).resolve().parent / "strings"
FALLBACK = "en"


@functools.cache
def catalogue() -> dict[str, dict[str, Any]]:
    """Every language's texts, read once; English is the fallback for a missing key."""
    found = {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(STRINGS.glob("*.yaml"))}
    missing = {lang: sorted(set(found[FALLBACK]) - set(texts)) for lang, texts in found.items()}
    problems = {lang: keys for lang, keys in missing.items() if keys}
    if problems:
        raise RuntimeError(f"link page texts miss keys: {problems}")
    return found


def languages() -> list[str]:
    """Language codes the page speaks, English first."""
    return sorted(catalogue(), key=lambda code: (code != FALLBACK, code))


@dataclass(frozen=True)
class Texts:
    """One language's texts: `texts("key", brand=...)` fills the placeholders."""

    language: str

    def __call__(self, key: str, **values: Any) -> str:
        table = catalogue()[self.language]
        text = table.get(key, catalogue()[FALLBACK][key])
        return str(text).format(**values) if values else str(text)

    def topic(self, topic: str) -> str:
        """A topic's label, or the topic id itself when no label is written down."""
        labels = catalogue()[self.language].get("topics") or {}
        return str(labels.get(topic) or catalogue()[FALLBACK]["topics"].get(topic) or topic)

    def name_of(self, language: str) -> str:
        """A language's own name, for the language switch."""
        return str(catalogue()[language]["name"])


def pick(*preferred: str | None) -> str:
    """?lang= first, then the browser's Accept-Language, then the given fallbacks, then English."""
    known = languages()
    asked = request.values.get("lang")
    if asked in known:
        return str(asked)
    best = request.accept_languages.best_match(known)
    if best:
        return str(best)
    return next((code for code in preferred if code in known), FALLBACK)
