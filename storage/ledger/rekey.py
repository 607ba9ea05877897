"""Key rotation: re-encrypt every encrypted column under the first of LEDGER_KEYS, a batch at a time.

Values still in plain text (written before encryption existed) are encrypted on the way. The
ledger chain covers keyed digests of the plaintext, not ciphertexts, so it verifies throughout.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import Integer, Text, column, select, table, update
from sqlalchemy.orm import Session

from storage import crypto

ENCRYPTED_COLUMNS = (("inbound_messages", "body"), ("inbound_messages", "decision"), ("consent_events", "explanation"))
"""Every column stored with EncryptedText or EncryptedJSON."""
BATCH = 2_000


def _new_value(value: str, keyring: crypto.Keyring, is_json: bool) -> str | None:
    """The value under the first key, or None when it needs no change."""
    if crypto.is_ciphertext(value):
        return keyring.rotate(value)
    if is_json and value == crypto.EMPTY_JSON:
        return None
    return keyring.encrypt(value)


def reencrypt(begin: Callable[[], AbstractContextManager[Session]]) -> dict[str, int]:
    """Rotate or encrypt every stored value; one short transaction per batch. Counts per column."""
    keyring = crypto.current()
    counts: dict[str, int] = {}
    for table_name, column_name in ENCRYPTED_COLUMNS:
        raw = table(table_name, column("id", Integer), column(column_name, Text))
        value_column = raw.c[column_name]
        after, done = 0, 0
        while True:
            with begin() as session:
                rows = session.execute(
                    select(raw.c.id, value_column).where(raw.c.id > after).order_by(raw.c.id).limit(BATCH)
                ).all()
                for row_id, value in rows:
                    new = None if value is None else _new_value(value, keyring, column_name != "body")
                    if new is not None:
                        session.execute(update(raw).where(raw.c.id == row_id).values({column_name: new}))
                        done += 1
            if not rows:
                break
            after = rows[-1][0]
        counts[f"{table_name}.{column_name}"] = done
    return counts
