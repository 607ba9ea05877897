"""Personal data at rest: Fernet-encrypted columns and the keyed hash that stands for an erased number.

LEDGER_KEYS is a list of Fernet keys: the first encrypts, every one decrypts (MultiFernet), so a
key is rotated by putting a new one first, running `flask ledger reencrypt`, then dropping the old.
NUMBER_HASH_KEY keys the HMAC-SHA256 that the ledger chain and erased suppressions use instead of
the number; it cannot be rotated without the numbers themselves, so keep it as long as the ledger.

The keys are process-wide (the column types below have no other way to reach them): `install()`
is called by the app factory, by tests and by the benchmark before any encrypted column is used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

FERNET_PREFIX = "gAAAAA"
"""Every Fernet token starts with this (version byte 0x80 and a 64-bit timestamp's high zero bytes)."""
PSEUDONYM_PREFIX = "h:"
"""An erased number's column value: this and the first 30 hex digits of its keyed hash (fits 32 chars)."""


class KeysMissing(RuntimeError):
    """An encrypted column or a keyed hash was used before `install()`; nothing is stored unencrypted."""


@dataclass(frozen=True)
class Keyring:
    """The Fernet keys (first encrypts, all decrypt) and the number-hash key."""

    fernet_keys: tuple[str, ...]
    hash_key: bytes

    def __post_init__(self) -> None:
        if not self.fernet_keys:
            raise ValueError("LEDGER_KEYS needs at least one Fernet key")
        if len(self.hash_key) < 16:
            raise ValueError("NUMBER_HASH_KEY needs at least 16 bytes")
        object.__setattr__(self, "_fernet", MultiFernet([Fernet(key) for key in self.fernet_keys]))
        object.__setattr__(self, "_mac", hmac.new(self.hash_key, digestmod=hashlib.sha256))

    @classmethod
    def from_strings(cls, fernet_keys: Sequence[str] | str, hash_key: str) -> Keyring:
        """Keys as the environment gives them: a comma-separated (or listed) Fernet keys and a text secret."""
        if isinstance(fernet_keys, str):
            fernet_keys = [key for key in fernet_keys.split(",")]
        return cls(tuple(key.strip() for key in fernet_keys if key.strip()), hash_key.strip().encode())

    @property
    def fernet(self) -> MultiFernet:
        fernet: MultiFernet = self._fernet  # type: ignore[attr-defined]
        return fernet

    def encrypt(self, text: str) -> str:
        return self.fernet.encrypt(text.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        return self.fernet.decrypt(token.encode("ascii")).decode()

    def rotate(self, token: str) -> str:
        """The same plaintext under the first key."""
        return self.fernet.rotate(token.encode("ascii")).decode("ascii")

    def digest(self, data: str) -> str:
        """HMAC-SHA256 hex of `data`: stands for a number or a text without revealing it."""
        # A copy of the keyed state skips setting the key up again: imports hash a million numbers.
        mac: hmac.HMAC = self._mac.copy()  # type: ignore[attr-defined]
        mac.update(data.encode())
        return mac.hexdigest()

    def pseudonym(self, number: str) -> str:
        """What an erased number's columns hold instead of it."""
        return pseudonym_of(self.digest(number))


def pseudonym_of(subject: str) -> str:
    """The pseudonym for a subject hash (the full keyed hash of a number)."""
    return PSEUDONYM_PREFIX + subject[:30]


def generate_fernet_key() -> str:
    """A fresh Fernet key, for development secrets and rotation."""
    return Fernet.generate_key().decode("ascii")


def generate_hash_key() -> str:
    """A fresh number-hash key (URL-safe text)."""
    return base64.urlsafe_b64encode(hashlib.sha256(Fernet.generate_key()).digest()).decode("ascii").rstrip("=")


_installed: Keyring | None = None


def install(keyring: Keyring) -> None:
    """Make `keyring` the process's keys."""
    global _installed
    _installed = keyring


def current() -> Keyring:
    """The process's keys; KeysMissing before `install()`."""
    if _installed is None:
        raise KeysMissing("no ledger keys installed: set LEDGER_KEYS and NUMBER_HASH_KEY (see README)")
    return _installed


def is_ciphertext(value: str) -> bool:
    """Whether a stored value is a Fernet token (values written before encryption are plain)."""
    return value.startswith(FERNET_PREFIX)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_json(value: Any) -> str:
    """The one JSON text of a value that hashes and encryption both use."""
    # One encoder for all: json.dumps with options builds a new one per call, three times a message.
    return _CANONICAL.encode(value)


EMPTY_JSON = "{}"


class Sealed(str):
    """Ciphertext made ahead of the statement that stores it; the encrypted column types store it as it is.

    The webhook's batches encrypt in each request's own thread, not while holding the database's
    write lock (SQLite) or the ledger head (PostgreSQL). `digest` is the keyed hash of the
    plaintext's canonical JSON (a ledger event's content digest), or None for text.
    """

    digest: str | None = None


def seal_text(text: str) -> Sealed:
    """`text` encrypted as EncryptedText would store it."""
    return Sealed(current().encrypt(text))


def seal_json(value: Any) -> Sealed:
    """`value` encrypted as EncryptedJSON would store it, with the keyed digest of its canonical JSON."""
    encoded = canonical_json(value)
    keyring = current()
    sealed = Sealed(EMPTY_JSON if value == {} else keyring.encrypt(encoded))
    sealed.digest = keyring.digest(encoded)
    return sealed


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with the installed keys; plain values from before encryption still read back."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or isinstance(value, Sealed):
            return value
        return current().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or not is_ciphertext(value):
            return value
        try:
            return current().decrypt(value)
        except InvalidToken:
            raise KeysMissing("a stored value does not decrypt with any of LEDGER_KEYS") from None


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored as encrypted text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or isinstance(value, Sealed):
            return value
        # An empty value holds nothing personal: kept plain, which spares bulk imports a million encryptions.
        return EMPTY_JSON if value == {} else current().encrypt(canonical_json(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if is_ciphertext(value):
            try:
                value = current().decrypt(value)
            except InvalidToken:
                raise KeysMissing("a stored value does not decrypt with any of LEDGER_KEYS") from None
        return json.loads(value)
