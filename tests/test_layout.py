"""The shape of the product code: small modules, short functions, nothing written twice.

Outside migrations: no module over 350 lines, no function over 50, and no run of six or more
statement lines that stands again elsewhere with the same shape (names, strings and numbers aside).
Declarations (imports, annotated fields such as a model's columns, docstrings, decorators such as
a route's, class headers) are not logic and do not count towards a repeated run; everything else does.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 50
RUN = 6
# Python 3.12 splits f-strings into tokens of their own; 3.11 gives one STRING.
FSTRING_START = getattr(tokenize, "FSTRING_START", -1)
FSTRING_PARTS = tuple(getattr(tokenize, name, -1) for name in ("FSTRING_MIDDLE", "FSTRING_END"))


def product_files() -> list[Path]:
    files = [path for package in ("gateway", "keywords", "storage") for path in (ROOT / package).rglob("*.py")
             if "migrations" not in path.parts]
    return sorted(files + [ROOT / "wsgi.py", ROOT / "gunicorn.conf.py"])


FILES = product_files()


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_modules_and_functions_are_short(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert source.count("\n") <= MAX_MODULE_LINES, f"{_name(path)}: {source.count(chr(10))} lines"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines, line {node.lineno})"  # type: ignore[operator]
            for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]  # type: ignore[operator]
    assert not long, f"{_name(path)}: functions over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"


def _declaration_lines(tree: ast.AST) -> set[int]:
    """Lines of imports, annotated fields, docstrings, decorators and class headers."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                lines.update(range(decorator.lineno, (decorator.end_lineno or decorator.lineno) + 1))
            if isinstance(node, ast.ClassDef):
                lines.add(node.lineno)
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.AnnAssign)) or (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def shapes(path: Path) -> list[tuple[int, str]]:
    """(line, shape) of each logical line that is not a declaration: names, strings and numbers as placeholders."""
    source = path.read_text(encoding="utf-8")
    skipped = _declaration_lines(ast.parse(source))
    out: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING):
            continue
        if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if current and start not in skipped:
                out.append((start, " ".join(current)))
            current = []
            continue
        if not current:
            start = token.start[0]
        if token.type == tokenize.NAME and not keyword.iskeyword(token.string):
            current.append("N")
        elif token.type == tokenize.STRING or token.type == FSTRING_START:
            current.append("S")
        elif token.type == tokenize.NUMBER:
            current.append("0")
        elif token.type not in FSTRING_PARTS:
            current.append(token.string)
    return out


def test_no_run_of_six_statements_is_written_twice() -> None:
    seen: dict[tuple[str, ...], tuple[str, int]] = {}
    repeated: list[str] = []
    for path in FILES:
        lines = shapes(path)
        for i in range(len(lines) - RUN + 1):
            window = tuple(shape for _, shape in lines[i:i + RUN])
            if sum(len(shape) for shape in window) < 60:
                continue  # runs of `return`, `pass`, `else:` and the like are no logic of their own
            where = (_name(path), lines[i][0])
            first = seen.setdefault(window, where)
            if first != where and (first[0] != where[0] or abs(first[1] - where[1]) >= RUN):
                repeated.append(f"{where[0]}:{where[1]} repeats {first[0]}:{first[1]}")
    assert not repeated, "runs of six statements of the same shape:\n" + "\n".join(repeated)
