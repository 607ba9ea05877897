"""Hot reload for long-running servers: serve the last good Rules, refuse broken edits loudly."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time

from keywords.errors import RulesError
from keywords.rules import Rules, parse_rules

log = logging.getLogger("keywords")


class RulesHolder:
    """Holds the current Rules for a file; checks it at most once per ``check_interval`` seconds."""

    def __init__(self, path: str | os.PathLike[str], check_interval: float = 1.0) -> None:
        self.path = os.fspath(path)
        self.check_interval = check_interval
        self.last_error: RulesError | None = None
        self.reload_failures = 0
        self._lock = threading.Lock()
        self._stat: tuple[int, int] | None = None
        self._digest = b""
        self._refused_digest: bytes | None = None
        self._checked = time.monotonic()
        data = self._read()
        if data is None:
            raise self.last_error or RulesError([(self.path, 0, "cannot read the file")])
        self._rules = parse_rules(data, self.path)  # first load: errors propagate
        self._digest = hashlib.sha256(data).digest()

    @property
    def current(self) -> Rules:
        """The rules to use now, reloading first if the file changed."""
        now = time.monotonic()
        if now - self._checked < self.check_interval:
            return self._rules
        with self._lock:
            if now - self._checked >= self.check_interval:
                self._checked = now
                self._maybe_reload()
        return self._rules

    def _read(self) -> bytes | None:
        try:
            st = os.stat(self.path)
            with open(self.path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            self.last_error = RulesError([(self.path, 0, f"cannot read the file: {exc.strerror or exc}")])
            return None
        self._stat = (st.st_mtime_ns, st.st_size)
        return data

    def _maybe_reload(self) -> None:
        try:
            st = os.stat(self.path)
        except OSError as exc:
            # Editors that save by rename leave a short gap; keep serving and say so once.
            if self._refused_digest != b"missing":
                self._refuse(RulesError([(self.path, 0, f"cannot read the file: {exc.strerror or exc}")]), b"missing")
            return
        if (st.st_mtime_ns, st.st_size) == self._stat:
            return
        data = self._read()
        if data is None:
            return
        digest = hashlib.sha256(data).digest()
        if digest == self._digest:
            self._refused_digest = None
            self.last_error = None
            return
        if digest == self._refused_digest:
            return
        try:
            rules = parse_rules(data, self.path)
        except RulesError as exc:
            self._refuse(exc, digest)
            return
        self._rules, self._digest = rules, digest
        self.last_error, self._refused_digest = None, None
        log.info("keywords: loaded %s (%s)", self.path, rules.version)

    def _refuse(self, exc: RulesError, digest: bytes) -> None:
        self.last_error = exc
        self._refused_digest = digest
        self.reload_failures += 1
        log.error("keywords: refused edit of %s, still serving %s:\n%s", self.path, self._rules.version, exc)
