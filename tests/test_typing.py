"""The packages stay strict-clean: mypy, as pyproject.toml configures it, reports no error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_strict_reports_no_errors() -> None:
    # From the repo root, so mypy reads [tool.mypy] there; its cache (.mypy_cache, ignored by git)
    # makes a run after a small change take well under a second instead of some fifteen.
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"mypy found type errors:\n{result.stdout}{result.stderr}"
