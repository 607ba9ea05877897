"""Shared fixtures for the keywords tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from keywords import Rules, load_rules

ROOT = Path(__file__).resolve().parents[2]

SHIPPED = ROOT / "keywords.yaml"


@pytest.fixture(scope="session")
def rules() -> Rules:
    """The shipped keywords.yaml, loaded once."""
    return load_rules(SHIPPED)
