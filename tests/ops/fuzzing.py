"""Hypothesis settings shared by the fuzz tests: example counts from the environment, reproducible in CI.

    FUZZ_EXAMPLES=N   examples per operation or form (default 100, what `make test` and CI run)
    FUZZ_RANDOM=1     a fresh random search each run instead of the fixed, derandomized one

A nightly run: `FUZZ_EXAMPLES=2000 FUZZ_RANDOM=1 make test PYTEST_ARGS="tests/ops -k fuzz"`; a failure
prints the `@reproduce_failure` blob to replay it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

DEFAULT_EXAMPLES = 100


def examples(default: int = DEFAULT_EXAMPLES) -> int:
    """FUZZ_EXAMPLES when set, else `default`."""
    return int(os.environ.get("FUZZ_EXAMPLES") or default)


def fuzz_settings(default: int = DEFAULT_EXAMPLES) -> settings:
    """No deadline (a shared 2-core machine), derandomized unless FUZZ_RANDOM=1, fixtures shared by examples."""
    return settings(
        max_examples=examples(default),
        deadline=None,
        derandomize=os.environ.get("FUZZ_RANDOM") != "1",
        database=None,
        # One app and database per test, shared by its examples: the state they build up is fuzzed too.
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much,
                               HealthCheck.data_too_large],
    )


@pytest.fixture
def database_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: the fuzzing looks for bad input handling, which no backend changes."""
    path = tmp_path / "gateway.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"
