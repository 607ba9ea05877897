"""No lost opt-out: spool inbound messages while the database is down, replay them in order when it is back.

`InboundPath.handle` (gateway/inbound/path.py) asks `caught_up()` before touching the database and hands a
message to `keep()` when the database cannot take it; this module owns what happens next: the
message is on disk before the provider gets its answer, and a background thread per worker (with
backoff), the next request, or `flask --app wsgi spool replay` puts it in the database exactly once.

An erasure wins over what waits: it deletes the number's spooled messages on its own machine
(`erasure.erase_number`), and a replay anywhere drops a message spooled before the number's
erasure instead of applying it. The erasure's own global opt-out covers any spooled opt-out (it
is wider: every sender, every topic), and a spooled START from before must not lift it.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask

from gateway.addresses import Address
from gateway.inbound import general
from gateway.messages import InboundMessage, Outcome
from gateway.ops.metrics import SPOOLED
from keywords import Decision
from storage import GLOBAL_SCOPE, Database, crypto, erasure
from storage.local_spool import Spool, SpooledInbound

log = logging.getLogger(__name__)

BACKOFF_START = 0.25
DOWN_HOLD = 1.0
"""Seconds after a failed replay during which requests go straight to the spool without trying the database."""
BACKOFF_MAX = 2.0
"""The longest pause between replay attempts: it bounds how long after the database returns other machines
may still not see a spooled opt-out (bench/replay_window.py measures it). An attempt against a database that
is still down costs one refused or timed-out connection per worker."""
BATCH = 200


Recorder = Callable[[InboundMessage, Decision, str, "str | None"], Outcome]
"""Stores one decided message: (message, decision, rules version, reply) -> what was stored."""


@dataclass(frozen=True)
class ReplayResult:
    """What one replay pass did: messages applied, found already applied, and still waiting.

    `erased`: messages dropped because their number was erased after they were spooled.
    """

    applied: int
    duplicates: int
    pending: int
    error: str | None = None
    erased: int = 0


def to_payload(message: InboundMessage, decision: Decision, rules_version: str, reply: str | None) -> dict[str, Any]:
    """Everything needed to apply the message later exactly as it would have been applied now."""
    return {
        "provider": message.provider,
        "message_id": message.message_id,
        "from": [message.from_.value, message.from_.kind],
        "to": [message.to.value, message.to.kind],
        "body": message.body,
        "scopes": list(message.scopes),
        "decision": decision.to_dict(),
        "rules_version": rules_version,
        "reply": reply,
    }


def from_payload(payload: dict[str, Any]) -> tuple[InboundMessage, Decision, str, str | None]:
    """The message, decision, rules version and reply a payload was made from."""
    message = InboundMessage(
        provider=payload["provider"],
        message_id=payload["message_id"],
        from_=Address(*payload["from"]),
        to=Address(*payload["to"]),
        body=payload["body"],
        scopes=tuple(payload["scopes"]),
    )
    return message, Decision(**payload["decision"]), payload["rules_version"], payload["reply"]


class InboundSpool:
    """The spool of one machine and the database it drains into."""

    def __init__(self, spool: Spool, database: Database, record: Recorder | None = None) -> None:
        self.spool = spool
        self.database = database
        self.record: Recorder = record or functools.partial(general.record, database=database)
        """How a replayed message is stored: the app's `InboundPath.replayed`, with its settings."""
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._closing = threading.Event()
        self._down_until = 0.0
        self.replay_failures = 0

    def caught_up(self) -> bool:
        """True when no older message waits; replays what waits first, so order is kept."""
        if not self.spool.has_pending():
            return True
        if time.monotonic() < self._down_until:
            # The database just failed: do not make every request of a burst wait for a connect timeout.
            return False
        return self.replay().pending == 0

    def keep(self, message: InboundMessage, decision: Decision, rules_version: str, reply: str | None) -> Outcome:
        """Write the message durably and answer as the database path would have."""
        self.spool.append(SpooledInbound(message.provider, message.message_id,
                                         to_payload(message, decision, rules_version, reply), sender=message.from_.value,
                                         opt_out_scopes=_opt_out_scopes(message, decision)))
        SPOOLED.inc()
        self.start_replayer()
        return Outcome(intent=decision.intent, reply=reply, duplicate=False, spooled=True)

    def opted_out(self, numbers: Iterable[str]) -> dict[str, set[str]]:
        """The numbers with an opt-out waiting here, and the sender scopes it covers (`*`: every sender).

        The pre-send check's fail-closed half: these were confirmed to the person ("no more
        messages") while the database could not take them. Found by the numbers' keyed hashes.
        """
        digest = crypto.current().digest
        subjects = {digest(number): number for number in numbers}
        return {subjects[subject]: scopes for subject, scopes in self.spool.opted_out(subjects).items()}

    def replay(self, limit: int | None = None) -> ReplayResult:
        """Apply waiting messages in spool order until none is left, the database fails, or `limit`."""
        counts = {"applied": 0, "duplicates": 0, "erased": 0}
        error: str | None = None
        with self.spool.replay_lock() as mine:
            if not mine:
                # Another worker on this machine is replaying; newer messages must queue behind it.
                return ReplayResult(0, 0, self.spool.depth(), "another replay is running")
            while error is None and (limit is None or sum(counts.values()) < limit):
                batch = self.spool.pending(BATCH if limit is None else min(BATCH, limit - sum(counts.values())))
                if not batch:
                    break
                for entry in batch:
                    try:
                        if entry.error is None:
                            self._apply(entry, counts)
                        else:
                            error = entry.error
                    except general.DATABASE_DOWN as exc:
                        error = f"database unavailable: {type(exc).__name__}"
                        self._down_until = time.monotonic() + DOWN_HOLD
                    except Exception as exc:  # noqa: BLE001 - keep order: stop at this message and say why
                        # Not log.exception: a database error's text can quote a number (PostgreSQL's DETAIL).
                        error = _why(exc)
                        log.error("spool replay of %s failed (%s); later messages wait behind it", entry.message_id, error)
                    if error is not None:
                        self.replay_failures += 1
                        self.spool.mark_failed(entry.id or 0, error)
                        break
                    self.spool.remove(entry.id or 0)
        if any(counts.values()):
            log.info("spool replay: %d applied, %d already applied, %d dropped (number erased since)",
                     counts["applied"], counts["duplicates"], counts["erased"])
        return ReplayResult(counts["applied"], counts["duplicates"], self.spool.depth(), error, counts["erased"])

    def _apply(self, entry: SpooledInbound, counts: dict[str, int]) -> None:
        """Put one spooled message in the database, unless its number was erased since it was spooled."""
        message, decision, rules_version, reply = from_payload(entry.payload)
        if message.from_.is_phone:
            with self.database.read() as connection:
                erased = erasure.erased_after(connection, message.from_.value, datetime.fromisoformat(entry.spooled_at))
            if erased:
                counts["erased"] += 1
                return
        outcome = self.record(message, decision, rules_version, reply)
        counts["duplicates" if outcome.duplicate else "applied"] += 1

    def start_replayer(self) -> None:
        """Start this worker's background replay thread unless it is running."""
        with self._thread_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._replay_until_empty, name="spool-replay", daemon=True)
            self._thread.start()

    def _replay_until_empty(self) -> None:
        delay = BACKOFF_START
        while not self._closing.is_set():
            try:
                if self.replay().pending == 0:
                    return
            except Exception:  # noqa: BLE001 - the thread must outlive a broken spool file; say so and retry
                log.exception("spool replay thread error")
            self._closing.wait(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    def close(self) -> None:
        """Stop the background replay (what waits stays in the spool for the next start)."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def _opt_out_scopes(message: InboundMessage, decision: Decision) -> tuple[str, ...] | None:
    """The scopes a message's opt-out covers, as the consent path will record them; None if it is none."""
    if not message.from_.is_phone or general.consent_action(decision) != "opt_out":
        return None
    return (GLOBAL_SCOPE,) if decision.scope == "all" else message.scopes


def _why(error: BaseException) -> str:
    """What failed and where, without the error's own text."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    code = getattr(getattr(error, "orig", None), "sqlstate", None)
    return f"{type(error).__name__}{f' (SQLSTATE {code})' if code else ''}{where}"


def spool_path(app: Flask) -> str:
    """GATEWAY_SPOOL_PATH, default instance/spool.db."""
    return str(app.config.get("SPOOL_PATH") or f"{app.instance_path}/spool.db")


def init_app(app: Flask, spool: InboundSpool) -> None:
    """The app's spool, and a replay of what a previous run left."""
    app.extensions["gateway.spool"] = spool
    if spool.spool.has_pending():
        spool.start_replayer()
