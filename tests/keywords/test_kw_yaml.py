"""keywords/yamlnodes.py: located values straight from libyaml's events, and what the file may not use."""

from __future__ import annotations

import pytest
import yaml

from keywords.yamlnodes import Map, Null, Seq, Text, YamlProblem, parse


def test_values_remember_their_lines() -> None:
    root = parse("a: 1\nb:\n  - x\n  - {c: ~, d: \"~\", e: NO}\n")
    assert isinstance(root, Map) and root.line == 1
    b = root["b"]
    assert isinstance(b, Seq) and b.line == 3 and b[0] == "x" and isinstance(b[0], Text) and b[0].line == 3
    inner = b[1]
    assert isinstance(inner, Map) and inner.line == 4
    assert isinstance(inner["c"], Null) and inner["d"] == "~" and inner["e"] == "NO"  # YAML 1.1 bools stay text
    assert [k.line for k in root] == [1, 2]  # type: ignore[attr-defined]


def test_the_same_values_as_yaml_compose_gives() -> None:
    text = open("keywords.yaml", encoding="utf-8").read()

    def plain(node: yaml.Node) -> object:
        if isinstance(node, yaml.ScalarNode):  # libyaml marks a plain scalar's style "" (Python: None)
            null = not node.style and node.value in ("", "~", "null", "Null", "NULL")
            return (None if null else node.value, node.start_mark.line + 1)
        if isinstance(node, yaml.SequenceNode):
            return [plain(item) for item in node.value]
        return {plain(k): plain(v) for k, v in node.value}

    def ours(value: object) -> object:
        if isinstance(value, Null):
            return (None, value.line)
        if isinstance(value, Text):
            return (str(value), value.line)
        if isinstance(value, Seq):
            return [ours(item) for item in value]
        assert isinstance(value, Map)
        return {ours(k): ours(v) for k, v in value.items()}

    assert ours(parse(text)) == plain(yaml.compose(text, Loader=yaml.CSafeLoader))


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("a: 1\na: 2\n", 2, "duplicate key 'a' (first on line 1)"),
    ("a: &x [1]\nb: *x\n", 2, "aliases"),
    ("<<: {a: 1}\n", 1, "merge keys"),
    ("? [a]\n: 1\n", 1, "keys must be plain text"),
    ("a: [1\n", 2, "not valid YAML"),
    ("a: 1\n---\nb: 2\n", 2, "a single document"),
    ("", 1, "the file is empty"),
], ids=["duplicate", "alias", "merge", "key-not-text", "broken", "two-documents", "empty"])
def test_what_the_file_may_not_use(text: str, line: int, reason: str) -> None:
    with pytest.raises(YamlProblem) as problem:
        parse(text)
    assert problem.value.line == line and reason in problem.value.reason
