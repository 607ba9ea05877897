"""RulesHolder hot reload with real files; mtimes are set explicitly, never slept for."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from keywords import RulesError, RulesHolder

MINIMAL = Path(__file__).with_name("minimal.yaml").read_text(encoding="utf-8")


def write(path: Path, text: str, mtime: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime * 10**9, mtime * 10**9))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "keywords.yaml"
    write(p, MINIMAL, 1_000)
    return p


def test_first_load_failure_raises(tmp_path: Path) -> None:
    p = tmp_path / "keywords.yaml"
    write(p, "nonsense: [", 1_000)
    with pytest.raises(RulesError):
        RulesHolder(p)


def test_edit_is_served(path: Path) -> None:
    holder = RulesHolder(path, check_interval=0)
    first = holder.current
    assert first.classify("PARAR").intent == "none"
    write(path, MINIMAL.replace("keywords: [STOP,", "keywords: [PARAR, STOP,"), 2_000)
    assert holder.current.classify("PARAR").intent == "opt_out"
    assert holder.current.version != first.version


def test_broken_edit_keeps_last_good_and_recovers(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    holder = RulesHolder(path, check_interval=0)
    good = holder.current
    broken = MINIMAL.replace("courtesy: [please]", "courtesy: [please]\n    colour: red")
    write(path, broken, 2_000)
    with caplog.at_level(logging.ERROR, logger="keywords"):
        assert holder.current is good
    assert holder.reload_failures == 1
    assert holder.last_error is not None and "unknown field 'colour'" in str(holder.last_error)
    line = MINIMAL.splitlines().index("    courtesy: [please]") + 2  # the line after courtesy
    assert any(f"{path}:{line}: unknown field 'colour'" in r.getMessage() for r in caplog.records), caplog.text
    # Asking again does not count the same broken edit twice.
    assert holder.current is good and holder.reload_failures == 1
    write(path, MINIMAL.replace("keywords: [STOP,", "keywords: [PARAR, STOP,"), 3_000)
    assert holder.current.classify("PARAR").intent == "opt_out"
    assert holder.last_error is None and holder.reload_failures == 1


def test_check_interval_limits_stat_calls(path: Path) -> None:
    holder = RulesHolder(path, check_interval=3600)
    good = holder.current
    write(path, MINIMAL.replace("keywords: [STOP,", "keywords: [PARAR, STOP,"), 2_000)
    assert holder.current is good  # not checked again within the interval


def test_touch_without_change_keeps_rules(path: Path) -> None:
    holder = RulesHolder(path, check_interval=0)
    good = holder.current
    os.utime(path, ns=(5_000 * 10**9, 5_000 * 10**9))
    assert holder.current is good and holder.reload_failures == 0


def test_missing_file_keeps_serving(path: Path) -> None:
    holder = RulesHolder(path, check_interval=0)
    good = holder.current
    path.unlink()
    assert holder.current is good and holder.reload_failures == 1
    assert holder.current is good and holder.reload_failures == 1
    write(path, MINIMAL, 9_000)
    assert holder.current.version == good.version and holder.last_error is None
