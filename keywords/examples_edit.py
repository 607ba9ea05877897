"""Add a fuzzy false positive to keywords.yaml's must-not-match examples, keeping comments and layout.

A message the fuzzy tier took for an opt-out ("Stoo" as STOP) would still match after being
written under `examples: none:`, and the file would then fail its own checks. So the word the
typo model took is also written under that language's `protected:` words (real words a typo
match must never take), and the edited text must pass `parse_rules` before it is written; if it
does not, nothing is written and the reason is given. Pure: no Flask, no SQL.

Only the two lists change: new items are appended to the existing flow (`[a, b]`) or block
(`- a`) sequence, quoted as JSON strings (valid YAML double-quoted scalars), so every comment,
key order and blank line of the staff's file stays as it was.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from dataclasses import dataclass, field

import yaml

from keywords.errors import KeywordsError, RulesError
from keywords.rules import Decision, Rules, parse_rules

FALLBACK_LANGUAGE = "en"
MAX_EXAMPLE_CHARS = 300
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the loader keywords/yamlnodes.py reads the file with


class EditRefused(KeywordsError):
    """The example was not added; the message says why (nothing was written)."""


@dataclass(frozen=True)
class Edit:
    """The edited file text and what was added to it."""

    text: str
    example: str
    protected: list[tuple[str, str]] = field(default_factory=list)
    version: str = ""


def _mapping_value(node: yaml.Node, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    pairs: list[tuple[yaml.Node, yaml.Node]] = node.value  # the stubs leave Node.value untyped
    for key_node, value in pairs:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value
    return None


def _find(root: yaml.Node | None, path: tuple[str, ...]) -> yaml.SequenceNode | None:
    """The sequence at `path` under `root`; None when it is missing (or the document is empty)."""
    node = root
    for key in path:
        node = _mapping_value(node, key) if node is not None else None
    return node if isinstance(node, yaml.SequenceNode) else None


def _append(text: str, sequence: yaml.SequenceNode, value: str) -> str:
    """Append a quoted item to a flow or block sequence, in place in the text."""
    quoted = json.dumps(value, ensure_ascii=False)
    if sequence.flow_style:
        close = sequence.end_mark.index - 1  # the index of "]"
        if text[close] != "]":
            raise EditRefused("cannot find the end of a [...] list in the file")
        separator = ", " if sequence.value else ""
        return text[:close] + separator + quoted + text[close:]
    last = sequence.value[-1]
    line = last.end_mark.line if last.end_mark.column else last.end_mark.line - 1
    lines = text.splitlines(keepends=True)
    indent = " " * sequence.start_mark.column
    ending = "\r\n" if lines[line].endswith("\r\n") else "\n"
    if not lines[line].endswith(("\n", "\r")):
        lines[line] += ending
    lines.insert(line + 1, f"{indent}- {quoted}{ending}")
    return "".join(lines)


def _culprits(rules: Rules, decision: Decision) -> list[str]:
    """The words of a message that the fuzzy tier reads as a keyword on their own."""
    words = []
    for word in decision.normalized.split():
        alone = rules.classify(word)
        if alone.tier == "fuzzy" and word not in words:
            words.append(word)
    return words


def add_none_example(text: str, message: str, filename: str = "<string>") -> Edit:
    """The keywords file `text` with `message` as a must-not-match example (and its typo word protected)."""
    message = message.strip()
    if not message or len(message) > MAX_EXAMPLE_CHARS:
        raise EditRefused(f"an example must have 1 to {MAX_EXAMPLE_CHARS} characters")
    rules = parse_rules(text, filename)
    if any(ex.intent == "none" and ex.text == message for ex in rules.file.examples):
        raise EditRefused("this message is already a must-not-match example")
    root = yaml.compose(text, Loader=_LOADER)
    examples = _find(root, ("examples", "none"))
    if examples is None:
        raise EditRefused("the file has no examples: none: list to add to")
    decision = rules.classify(message)
    protected: list[tuple[str, str]] = []
    if decision.intent != "none":
        if decision.tier != "fuzzy":
            raise EditRefused(
                f"'{message}' is matched by the {decision.tier} rule '{decision.rule}', not by a typo: "
                "change that rule in the file instead"
            )
        language = decision.language if decision.language in rules.languages else FALLBACK_LANGUAGE
        protected = [(language, word) for word in _culprits(rules, decision)]
        if not protected:
            raise EditRefused(f"no single word of '{message}' is the typo; change the rules in the file instead")
    # Edit from the end of the file backwards, so earlier marks stay valid.
    edits: list[tuple[yaml.SequenceNode, str]] = [(examples, message)]
    for language, word in protected:
        words = _find(root, ("languages", language, "protected"))
        if words is None:
            raise EditRefused(f"language '{language}' has no protected: list to add '{word}' to")
        edits.append((words, word))
    new_text = text
    for sequence, value in sorted(edits, key=lambda item: item[0].end_mark.index, reverse=True):
        new_text = _append(new_text, sequence, value)
    try:
        checked = parse_rules(new_text, filename)
    except RulesError as error:
        raise EditRefused(f"the file would be refused with this example:\n{error}") from None
    return Edit(new_text, message, protected, checked.version)


def add_none_example_to_file(path: str | os.PathLike[str], message: str) -> Edit:
    """Edit the keywords file at `path` in place, atomically; raises EditRefused and writes nothing."""
    name = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(name))
    # Two staff members marking at once (in any worker) must not lose one of the edits.
    lock_path = os.path.join(folder, f".{os.path.basename(name)}.lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _rewrite(name, folder, message)


def _rewrite(name: str, folder: str, message: str) -> Edit:
    with open(name, encoding="utf-8", newline="") as handle:
        text = handle.read()
    edit = add_none_example(text, message, name)
    fd, temporary = tempfile.mkstemp(prefix=".keywords-", suffix=".yaml", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(edit.text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, os.stat(name).st_mode & 0o7777)
        os.replace(temporary, name)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return edit
