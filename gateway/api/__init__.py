"""The JSON API under /api/v1: one blueprint, its routes in the modules below, described by openapi.yaml.

- common.py: the blueprint, the 400 handler and argument parsing every route shares;
- suppressions.py: the check senders call before every send, and the OpenAPI document;
- operations.py: compliance operations (staff suppressions, scrub, import, export, history, erasure);
- csv_rows.py: CSV files of numbers in and out (also used by the CLI), spreadsheet-safe;
- links.py: minting, resolving and revoking unsubscribe links; tokens.py: bearer tokens and their owners.

May import gateway.current, gateway.config, gateway.errors and storage; the pages use links.py.

May import gateway's settings, auth and state modules and storage; nothing in gateway imports
a route module but this file (importing them registers their routes on the blueprint).
"""

from __future__ import annotations

from gateway.api import operations, suppressions
from gateway.api.common import bp
from gateway.api.suppressions import openapi_document

__all__ = ["bp", "openapi_document", "operations", "suppressions"]
