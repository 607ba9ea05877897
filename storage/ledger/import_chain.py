"""An import's ledger events: one chained event per row, hashed here or, for a large import, in a helper process.

A million rows take some 8 s of hashing on one core (the keyed hash of each number, then the chain
hash). From `HELPER_ROWS` rows on, a helper process does it while this one writes the events, so
hashing and database work share a 2-core machine. The helper is a fresh interpreter, not a fork (a
web worker has threads); it gets the keys and rows through a pipe and sends the events back in
order, in chunks. The keys never touch a disk or a command line.

A row whose number was erased (its pseudonym is in `ChainStart.erased`) is stored as the
pseudonym, as erasure left the number's other rows: re-importing an old list must not bring the
number back in plain text, and the suppression check finds it either way.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from storage import crypto, ledger
from storage.consent import planner
from storage.consent.planner import ConsentChange, Held, NumberState, Subscribed

HELPER_ROWS = 100_000
"""Smaller imports hash in this process: starting a helper takes about a second."""
CHUNK = 20_000
EVENT_COLUMNS = (
    "id", "number", "sender_scope", "topic", "changed", "rule", "subject", "prev_hash", "hash", "source", "actor", "rules_version",
)
"""What `ImportChain.events` gives for each event; the other columns hold constants of the whole import."""

Key = tuple[str, str, str]
"""(number, sender scope, topic): what one suppression row stands for."""
Row = tuple[int, str, str, str]
"""(line, number, sender scope, topic): an import row (storage.consent.bulk.ImportRow is one)."""
_NEW = object()


@dataclass(frozen=True)
class ChainStart:
    """Where an import's events join the chain (the locked head), and what all of them share."""

    head_id: int
    head_hash: str
    batch: str
    source: str
    note: str | None
    actor: str
    created: datetime
    erased: frozenset[str] = frozenset()
    """The pseudonyms of erased numbers (`crypto.pseudonym`): such a row stores the pseudonym instead."""
    explanation: dict[str, str] = field(default_factory=dict)
    """What every event of the import explains (the reach applied); an event that ends subscriptions adds to it."""


class ImportChain:
    """The events of one import, chained on from the head; `last_id` and `last_hash` once they are all given."""

    def __init__(self, start: ChainStart) -> None:
        keyring = crypto.current()
        self.last_id, self.last_hash = start.head_id, start.head_hash
        self.given = (start.source, start.actor, start.note)
        self.erased = start.erased
        self.added = self.already = 0
        """Rows not suppressed before, and rows suppressed for good already (counted as `events` gives them)."""
        self.states: dict[str, NumberState] = {}
        self.explained: list[tuple[int, dict[str, Any]]] = []
        """Events whose explanation is not the import's shared one: (id, explanation)."""
        self.digest = keyring.digest
        self.content_digest = keyring.digest(crypto.canonical_json(start.explanation))
        self.rule = f"import {start.batch} line "
        # The JSON text `ledger.hash_values` would encode, built from parts: the same bytes, at a
        # fraction of the cost for a million rows (tests/storage/test_bulk.py verifies the chain).
        encode = ledger.encode_value
        self.middle = f'"opt_out",null,{encode(start.source)},'
        self.start = start
        self.end = self._tail(self.content_digest)

    def events(self, rows: Iterable[Row], existing: Mapping[Key, datetime | None],
               subscribed: Mapping[str, list[Subscribed]] | None = None) -> Iterator[tuple[Any, ...]]:
        """One event per row; `changed` (1 or 0: SQLite binds an int faster than a bool) unless already suppressed for good.

        `existing` holds the suppressions of the rows' numbers and of every erased number's pseudonym;
        `subscribed` the subscriptions of the rows' numbers (few, if any): an imported opt-out ends them.
        """
        self.states = {number: NumberState(number, subscriptions=list(held)) for number, held in (subscribed or {}).items()}
        encode, digest, hash_text, given, rule_prefix, middle, end = (
            ledger.encode_value, self.digest, ledger.hash_text, self.given, self.rule, self.middle, self.end)
        erased, prefix = self.erased, crypto.PSEUDONYM_PREFIX
        encoded_text: dict[str, str] = {}
        event_id, prev_hash = self.last_id, self.last_hash
        added = already = 0
        for line, number, scope, topic in rows:
            event_id += 1
            subject, rule = digest(number), f"{rule_prefix}{line}"
            if erased and prefix + subject[:30] in erased:
                number = prefix + subject[:30]  # crypto.pseudonym_of
            found = existing.get((number, scope, topic), _NEW)
            added += found is _NEW
            already += found is None
            scope_json = encoded_text.get(scope) or encoded_text.setdefault(scope, encode(scope))
            topic_json = encoded_text.get(topic) or encoded_text.setdefault(topic, encode(topic))
            tail = end
            if number in self.states:
                # The number has subscriptions: the planner decides, as for any other opt-out.
                changed, explanation = self._planned(event_id, number, scope, topic, found)
                if explanation:
                    tail = self._tail(digest(crypto.canonical_json(explanation)))
            else:
                # The planner's rule for a row with no subscriptions around it, inline for a million rows.
                changed = 1 if found is _NEW or planner.stop_changes(found, None) else 0  # type: ignore[arg-type]
            event_hash = hash_text(prev_hash, f'[{event_id},"{subject}",{scope_json},{topic_json},{middle}'
                                              f'{"true" if changed else "false"},null,null,"{rule}"{tail}')
            yield event_id, number, scope, topic, changed, rule, subject, prev_hash, event_hash, *given
            prev_hash = event_hash
        self.last_id, self.last_hash = event_id, prev_hash
        self.added, self.already = added, already

    def _planned(self, event_id: int, number: str, scope: str, topic: str, found: object) -> tuple[int, dict[str, Any]]:
        """`planner.apply` for a row whose number has subscriptions: whether it changed, and its explanation."""
        state = self.states[number]
        if found is not _NEW and state.held(scope, topic) is None:
            state.suppressions.append(Held(number, scope, topic, found))  # type: ignore[arg-type]
        source, actor, _ = self.given
        change = ConsentChange(number=number, scopes=(scope,), action="opt_out", source=source, topic=topic, actor=actor)
        [event] = planner.apply(state, change, self.start.created)
        explanation = {**self.start.explanation, **event.extra} if event.extra else {}
        if explanation:
            self.explained.append((event_id, explanation))
        return int(event.changed), explanation

    def _tail(self, content: str) -> str:
        """The end of an event's encoded fields, from the digest of its explanation on."""
        start, encode = self.start, ledger.encode_value
        return (f',null,null,null,{encode(start.note)},{encode(start.actor)},{encode(content)},'
                f'{encode(start.created.isoformat(timespec="microseconds"))}]')

    @property
    def ended(self) -> list[int]:
        """The ids of the subscriptions the import's opt-outs ended."""
        return [row_id for state in self.states.values() for row_id in state.effects().subscriptions_deleted]


class HelperFailed(RuntimeError):
    """The helper process stopped or failed before it gave every event: the import must not commit."""


class Hashing:
    """Chain an import's events in a helper process (`helper=True`) or in this one; a context manager.

    Entering starts the helper, so that it boots while the caller reads the existing suppressions;
    leaving stops it, whatever happened. The helper is `python -c` in a fresh interpreter (not
    multiprocessing, which would run the caller's main script again there), fed pickles on stdin.
    """

    def __init__(self, start: ChainStart, helper: bool) -> None:
        self.start = start
        self.chain = ImportChain(start)
        self.helper = helper
        self.process: subprocess.Popen[bytes] | None = None
        self.ended: list[int] = []
        """The subscriptions the import ended (from the helper, or from this process's chain once it is done)."""

    def __enter__(self) -> Hashing:
        if self.helper:
            root = str(Path(__file__).resolve().parents[2])
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
            self.process = subprocess.Popen([sys.executable, "-c", HELPER_COMMAND], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, env=env, cwd=root)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self.process is not None:
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None:
                    pipe.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def events(self, rows: Iterable[Row], existing: Mapping[Key, datetime | None],
               subscribed: Mapping[str, list[Subscribed]] | None = None) -> Iterator[tuple[Any, ...]]:
        """The events of `rows` in order, from whichever process hashes them."""
        if self.process is None:
            yield from self.chain.events(rows, existing, subscribed)
            self.ended = self.chain.ended
            return
        assert self.process.stdin is not None and self.process.stdout is not None
        keyring = crypto.current()
        # Columns pickle at a fraction of the cost of a million small tuples.
        columns = [list(column) for column in zip(*rows)] or [[], [], [], []]
        try:
            pickle.dump((keyring.fernet_keys, keyring.hash_key, vars(self.start), columns, dict(existing),
                         dict(subscribed or {})),
                        self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.process.stdin.close()
        except OSError as error:
            raise HelperFailed(f"the import's hashing process did not start: {error!r}") from None
        del columns
        while True:
            try:
                kind, payload = pickle.load(self.process.stdout)
            except (EOFError, OSError, pickle.UnpicklingError) as error:
                raise HelperFailed(f"the import's hashing process stopped: {error!r}") from None
            if kind == "events":
                yield from payload
            elif kind == "done":
                (self.chain.last_id, self.chain.last_hash, self.chain.added, self.chain.already,
                 self.chain.explained, self.ended) = payload
                return
            else:
                raise HelperFailed(f"the import's hashing process failed: {payload}")


HELPER_COMMAND = "from storage.ledger.import_chain import help_import; help_import()"


def help_import() -> None:
    """The helper process: chain the rows sent on stdin, send the events back on stdout a chunk at a time."""
    output = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed by accident must not corrupt the pickles
    try:
        fernet_keys, hash_key, start, columns, existing, subscribed = pickle.load(sys.stdin.buffer)
    except EOFError:
        return  # the import ended before it needed us
    try:
        crypto.install(crypto.Keyring(fernet_keys, hash_key))
        chain = ImportChain(ChainStart(**start))
        chunk: list[tuple[Any, ...]] = []
        for event in chain.events(zip(*columns), existing, subscribed):
            chunk.append(event)
            if len(chunk) == CHUNK:
                pickle.dump(("events", chunk), output, protocol=pickle.HIGHEST_PROTOCOL)
                output.flush()
                chunk = []
        pickle.dump(("events", chunk), output, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(("done", (chain.last_id, chain.last_hash, chain.added, chain.already, chain.explained, chain.ended)), output,
                    protocol=pickle.HIGHEST_PROTOCOL)
        output.flush()
    except BrokenPipeError:
        return  # the import gave up (an error, a rollback): nobody is listening
    except Exception as error:  # noqa: BLE001 - sent to the importing process, which raises it
        pickle.dump(("failed", repr(error)), output)
        output.flush()
