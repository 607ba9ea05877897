"""No import circles between the modules of gateway/, keywords/ and storage/.

A circle means a module can only be imported half-built, and usually that a type or helper
lives in the wrong module. Imports under ``if TYPE_CHECKING:`` are left out (they never run);
imports inside functions count, since they run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "keywords", "storage")


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _type_checking_only(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                    isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
                skipped.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return skipped


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of our packages that ``name`` imports when it runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # "from gateway.api import operations" imports a module; "from gateway.api import bp" the package.
            out.update(f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module for alias in node.names)
    return {m for m in out if m in known and m != name}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_walk_sees_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("source, imported", [
    ("from gateway.api import operations\n", {"gateway.api.operations"}),
    ("from gateway.api import bp\n", {"gateway.api"}),
    ("from . import common\n", {"gateway.api.common"}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gateway.api import bp\n", set()),
    ("def f():\n    from gateway.api import common\n", {"gateway.api.common"}),
], ids=["submodule", "package-name", "relative", "type-checking-only", "inside-a-function"])
def test_imports_are_read_as_they_run(tmp_path: Path, source: str, imported: set[str]) -> None:
    known = {name: ROOT for name in ("gateway.api", "gateway.api.operations", "gateway.api.common",
                                     "gateway.api.suppressions")}
    module = tmp_path / "suppressions.py"
    module.write_text(source, encoding="utf-8")
    assert imports_of("gateway.api.suppressions", module, known) == imported


def test_no_import_circles() -> None:
    known = modules()
    assert len(known) > 50  # the walk found the packages
    graph = {name: imports_of(name, path, known) for name, path in known.items()}
    assert circles(graph) == []
