"""The consent ledger: the hash chain (chain.py), an import's events (import_chain.py), evidence for an audit
(evidence.py) and key rotation (rekey.py).

May import storage's models, crypto and dbapi; the consent package appends through `chain`.
"""

from storage.ledger.chain import (
    GENESIS, HEAD_ID, HeadNotReady, LedgerHead, VerifyResult, append, append_driven, chain_fields, chain_rows,
    encode_value, event_hash, hash_text, hash_values, head, lock_head, seal_legacy, verify_chain,
)

__all__ = [
    "GENESIS", "HEAD_ID", "HeadNotReady", "LedgerHead", "VerifyResult", "append", "append_driven", "chain_fields",
    "chain_rows", "encode_value", "event_hash", "hash_text", "hash_values", "head", "lock_head", "seal_legacy",
    "verify_chain",
]
