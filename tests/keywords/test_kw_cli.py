"""python -m keywords as an operator runs it: a real subprocess from the repo root."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
MINIMAL = Path(__file__).with_name("minimal.yaml").read_text(encoding="utf-8")


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "keywords", *args], cwd=ROOT, input=stdin, text=True,
                          capture_output=True, encoding="utf-8", timeout=60,
                          env={**os.environ, **(env or {})})


def test_check_shipped_file_passes() -> None:
    result = run("check")
    assert result.returncode == 0, result.stderr
    assert "keywords.yaml: OK (sha256:" in result.stdout
    assert "default en opt_out:" in result.stdout and "GSM-7" in result.stdout and "UCS-2" in result.stdout


def test_check_broken_file_lists_reasons(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("courtesy: [please]", "courtesy: [please]\n    colour: red"), encoding="utf-8")
    result = run("check", str(bad))
    assert result.returncode == 1
    assert f"{bad}:" in result.stderr and "unknown field 'colour'" in result.stderr


def test_classify_reads_lines_and_prints_json() -> None:
    result = run("classify", stdin="STOP\nОтписаться\nthe bus stop is closed\n\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["intent"] for r in rows] == ["opt_out", "opt_out", "none", "none"]
    assert rows[1]["normalized"] == "отписаться" and "Отписаться" in result.stdout  # ensure_ascii=False
    assert {"intent", "scope", "language", "rule", "tier", "score", "normalized", "needs_review"} <= rows[0].keys()


def test_classify_prints_the_double_opt_in_action() -> None:
    result = run("classify", stdin="JOIN\nYES\nSTART\n")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["intent"], r["action"]) for r in rows] == [("opt_in", "join"), ("opt_in", "confirm"), ("opt_in", None)]


def test_classify_uses_keywords_file_env(tmp_path: Path) -> None:
    f = tmp_path / "k.yaml"
    f.write_text(MINIMAL.replace("keywords: [STOP,", "keywords: [PARAR, STOP,"), encoding="utf-8")
    result = run("classify", stdin="PARAR\n", env={"KEYWORDS_FILE": str(f)})
    assert json.loads(result.stdout)["intent"] == "opt_out"
    result = run("classify", "--file", str(f), stdin="BAJA\n")
    assert json.loads(result.stdout)["intent"] == "none"


def test_diff_shows_changed_messages(tmp_path: Path) -> None:
    old, new, messages = tmp_path / "old.yaml", tmp_path / "new.yaml", tmp_path / "m.txt"
    old.write_text(MINIMAL, encoding="utf-8")
    new.write_text(MINIMAL.replace("keywords: [STOP,", "keywords: [PARAR, STOP,"), encoding="utf-8")
    messages.write_text("STOP\nPARAR\nhello\n", encoding="utf-8")
    result = run("diff", str(old), str(new), "--messages", str(messages))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert json.loads(lines[0]) == {"message": "PARAR", "old": "none", "new": "opt_out (exact 'PARAR')"}
    assert lines[-1].startswith("1 of 3 messages change")


def test_diff_names_double_opt_in_changes(tmp_path: Path) -> None:
    old, messages = tmp_path / "old.yaml", tmp_path / "m.txt"
    old.write_text(MINIMAL, encoding="utf-8")
    messages.write_text("YES\nJOIN\nSTOP\n", encoding="utf-8")
    result = run("diff", str(old), str(ROOT / "keywords.yaml"), "--messages", str(messages))
    lines = result.stdout.splitlines()
    assert [json.loads(line)["new"] for line in lines[:-1]] == ["confirm (exact 'YES')", "join (exact 'JOIN')"]
    assert "; none -> confirm: 1; none -> join: 1" in lines[-1]


def test_eval_prints_recall_false_opt_outs_and_misses(tmp_path: Path) -> None:
    corpus = tmp_path / "traffic.tsv"
    corpus.write_text(
        "# message\tintent\tlanguage\tnote\n"
        "STOP\topt_out\ten\texact\n"
        "Отписаться\topt_out\tru\texact\n"
        "STOP\tnone\ten\tmislabelled on purpose\n"
        "the bus stop is closed\tnone\ten\thard-negative\n"
        "HELP\thelp\ten\texact\n"
        "zzqx blorp\topt_in\ten\tunknown words\n",
        encoding="utf-8",
    )
    result = run("eval", str(corpus), "--by-language", "--misses")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "5 rows" not in out and "6 rows" in out
    assert "opt_out recall 1.000 (2/2)" in out and "help recall 1.000 (1/1)" in out and "opt_in recall 0.000 (0/1)" in out
    assert "false opt-outs: 1" in out
    assert "FALSE OPT-OUT line 4 [en] 'STOP': expected none, got opt_out" in out
    assert "MISS line 7 [en] 'zzqx blorp': expected opt_in, got none (no rule matched" in out
    assert any(line.startswith("ru ") and "1.000 (  1/  1)" in line for line in out.splitlines())


def test_eval_refuses_a_malformed_row_with_file_and_line(tmp_path: Path) -> None:
    corpus = tmp_path / "bad.tsv"
    corpus.write_text("STOP\topt_out\ten\texact\nSTOP\tstop\ten\texact\n", encoding="utf-8")
    result = run("eval", str(corpus))
    assert result.returncode == 1
    assert f"{corpus}:2: intent 'stop' is not one of" in result.stderr
