"""The ledger's encryption and number-hash keys: from the environment, or development keys under instance/."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

from storage import crypto

DEV_LEDGER_KEYS_FILE = "ledger_keys"
DEV_NUMBER_HASH_KEY_FILE = "number_hash_key"

log = logging.getLogger(__name__)


def _dev_key(instance: Path, name: str, generate: str) -> str:
    """Read a development key under instance/, creating it once (mode 0600)."""
    path = instance / name
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another worker made it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(generate + "\n")
            log.warning("generated a development key in %s: set the real one in the environment in production", path)
    return path.read_text().strip()


class SharedDatabaseWithoutKeys(RuntimeError):
    """Development keys were about to be made for a database that several machines may share."""


def init_app(app: Flask) -> None:
    """Fill LEDGER_KEYS / NUMBER_HASH_KEY (environment, test config, or development files) and install them."""
    instance = Path(app.instance_path)
    keys = app.config.get("LEDGER_KEYS") or os.environ.get("LEDGER_KEYS")
    hash_key = app.config.get("NUMBER_HASH_KEY") or os.environ.get("NUMBER_HASH_KEY")
    if not (keys and hash_key) and not app.config["DATABASE_URL"].startswith("sqlite"):
        # Keys made under one machine's instance/ would differ on every other machine: bodies one
        # machine wrote would not decrypt on the next, and the ledger chain would not verify.
        missing = " and ".join(name for name, value in (("LEDGER_KEYS", keys), ("NUMBER_HASH_KEY", hash_key)) if not value)
        raise SharedDatabaseWithoutKeys(
            f"{missing} must be set when DATABASE_URL is not SQLite (development keys are for one machine); "
            "see README, 'Keys and tokens'"
        )
    if not keys:
        keys = _dev_key(instance, DEV_LEDGER_KEYS_FILE, crypto.generate_fernet_key())
    if not hash_key:
        hash_key = _dev_key(instance, DEV_NUMBER_HASH_KEY_FILE, crypto.generate_hash_key())
    keyring = crypto.Keyring.from_strings(keys, hash_key)
    app.config["LEDGER_KEYS"], app.config["NUMBER_HASH_KEY"] = keyring.fernet_keys, hash_key
    crypto.install(keyring)
