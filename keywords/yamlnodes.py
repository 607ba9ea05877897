"""Load YAML into plain values that remember their line numbers, for problems a person can find.

Scalars stay text (``Text``, a str subclass) with the YAML 1.1 surprises switched off: a keyword
written ``NO`` or ``OFF`` or a short code ``12345`` is the text the file shows, not a bool or int.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Union

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


def _key(container: Map, event: Any, value: Node) -> Text:
    """``value`` as the next key of ``container``: plain text, no merge key, no duplicate."""
    if not isinstance(value, Text):
        raise YamlProblem(event.start_mark.line + 1, "keys must be plain text")
    if value == "<<":
        raise YamlProblem(value.line, "merge keys (<<) are not allowed; write the values out")
    if value in container:
        first = next(k for k in container if k == value)
        raise YamlProblem(value.line, f"duplicate key '{value}' (first on line {first.line})")  # type: ignore[attr-defined]
    return value


def _compose(events: Iterator[Any]) -> Node | None:
    """Build located values straight from the parser's events (libyaml), without yaml.Node objects:
    the values yaml.compose and a conversion of its nodes would give, in about half the time."""
    scalar, seq_start, map_start = yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent
    ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    root: Node | None = None
    container: Map | Seq | None = None
    key: Text | None = None  # a mapping's key waiting for its value
    stack: list[tuple[Map | Seq | None, Text | None]] = []
    documents = 0
    for event in events:
        kind = event.__class__
        if kind is scalar:
            line = event.start_mark.line + 1
            value: Node = Null(line) if not event.style and event.value in _NULLS else Text(event.value, line)
        elif kind is seq_start or kind is map_start:
            value = Seq() if kind is seq_start else Map()
            value.line = event.start_mark.line + 1
        elif kind in ends:
            container, key = stack.pop()
            continue
        elif kind is yaml.AliasEvent:
            raise YamlProblem(event.start_mark.line + 1, "aliases (*name) are not allowed; write the values out")
        else:
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise YamlProblem(event.start_mark.line + 1, "not valid YAML: expected a single document")
            continue
        if container is None:
            root = value
        elif isinstance(container, Seq):
            container.append(value)
        elif key is None:
            key = _key(container, event, value)
            continue
        else:
            container[key] = value
            key = None
        if isinstance(value, Map | Seq):
            stack.append((container, key))
            container, key = value, None
    return root


def parse(text: str) -> Node:
    """Parse one YAML document into located values; raises YamlProblem with a line."""
    try:
        root = _compose(yaml.parse(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(line, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"not valid YAML: {exc}") from None
    if root is None:
        raise YamlProblem(1, "the file is empty")
    return root
