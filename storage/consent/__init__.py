"""Consent: the one state machine (planner.py) and the three ways its changes reach the database.

- planner.py: pure; a number's rows and a change in, writes and ledger events out.
- apply.py: the general path (one change, one number, the caller's session); locks and reads.
- batch.py: the webhook's STOP and START, many messages per transaction (group commit, intake.py).
- bulk.py: suppression-list imports, a million rows in one transaction.
- status.py: the pre-send check; received.py: stored inbound messages and delivery reports.

May import storage's models, crypto, ledger, limits and driver; never gateway or keywords.
"""

from storage.consent.apply import apply_change, can_confirm, identities, lock_subject, narrow, read_state
from storage.consent.planner import DEADLINE_ACTIONS, NARROW, Action, ConsentChange
from storage.consent.received import add_delivery_report, add_inbound, find_delivery_report, find_inbound
from storage.consent.status import SuppressionEntry, SuppressionStatus, events_for, suppression_status

__all__ = [
    "DEADLINE_ACTIONS", "NARROW", "Action", "ConsentChange", "SuppressionEntry", "SuppressionStatus",
    "add_delivery_report", "add_inbound", "apply_change", "can_confirm", "events_for", "find_delivery_report",
    "find_inbound", "identities", "lock_subject", "narrow", "read_state", "suppression_status",
]
