"""Load YAML into plain values that remember their line numbers, for problems a person can find.

Scalars stay text (``Text``, a str subclass) with the YAML 1.1 surprises switched off: a keyword
written ``NO`` or ``OFF`` or a short code ``12345`` is the text the file shows, not a bool or int.
"""

from __future__ import annotations

from typing import Union

import yaml


class Text(str):
    """A scalar from the file, as written, with its 1-based line."""

    line: int

    def __new__(cls, value: str, line: int) -> Text:
        obj = super().__new__(cls, value)
        obj.line = line
        return obj


class Null:
    """An empty or null scalar (``~``, ``null`` or nothing), with its line."""

    def __init__(self, line: int) -> None:
        self.line = line

    def __repr__(self) -> str:
        return f"Null(line={self.line})"


class Map(dict[str, "Node"]):
    """A mapping whose keys are ``Text`` (so each key knows its line)."""

    line: int


class Seq(list["Node"]):
    """A sequence with the line where it starts."""

    line: int


Node = Union[Text, Null, Map, Seq]
_NULLS = {"", "~", "null", "Null", "NULL"}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml keeps line marks too, and is faster


class YamlProblem(Exception):
    """The file is not well-formed YAML, or uses a construct the rules file does not allow."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _convert(node: yaml.Node) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        if node.style is None and node.value in _NULLS:
            return Null(line)
        return Text(node.value, line)
    if isinstance(node, yaml.SequenceNode):
        seq = Seq(_convert(item) for item in node.value)
        seq.line = line
        return seq
    if isinstance(node, yaml.MappingNode):
        out = Map()
        out.line = line
        for key_node, value_node in node.value:
            key = _convert(key_node)
            if not isinstance(key, Text):
                raise YamlProblem(key_node.start_mark.line + 1, "keys must be plain text")
            if key == "<<":
                raise YamlProblem(key.line, "merge keys (<<) are not allowed; write the values out")
            if key in out:
                first = next(k for k in out if k == key)
                raise YamlProblem(key.line, f"duplicate key '{key}' (first on line {first.line})")  # type: ignore[attr-defined]
            out[key] = _convert(value_node)
        return out
    raise YamlProblem(line, f"unsupported YAML node {type(node).__name__}")  # pragma: no cover


def parse(text: str) -> Node:
    """Parse one YAML document into located values; raises YamlProblem with a line."""
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(line, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"not valid YAML: {exc}") from None
    if root is None:
        raise YamlProblem(1, "the file is empty")
    return _convert(root)
