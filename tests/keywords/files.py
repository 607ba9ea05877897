"""Keyword files for the tests: the minimal file, a variant of it on disk, and its expected refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from keywords import RulesError, load_rules

MINIMAL = Path(__file__).with_name("minimal.yaml").read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keywords.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(tmp_path: Path, text: str) -> RulesError:
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    for file, _, _ in info.value.problems:
        assert file == str(path)
    return info.value


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def assert_refused(tmp_path: Path, base: str, old: str, new: str, needle: str | None, reason: str) -> None:
    """``base`` with ``old`` replaced by ``new`` is refused for ``reason`` on the line holding ``needle``."""
    assert old in base
    text = base.replace(old, new, 1)
    error = refusal(tmp_path, text)
    matching = [line for _, line, r in error.problems if reason in r]
    assert matching, str(error)
    if needle is not None:  # None: the problem has no line of its own (a missing word)
        assert line_of(text, needle) in matching, f"expected line {line_of(text, needle)}:\n{error}"
