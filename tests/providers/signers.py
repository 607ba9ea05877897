"""Reference signers: each provider's signature made from its published description, not from our code or its SDK.

The production verifiers (gateway/providers/) use the providers' SDKs and their own handling of the
request; these are written again from the providers' documentation and checked against the
providers' published known-answer vectors (test_signers.py), so a bug in how the gateway builds the
signed string fails the payload tests instead of being shared by the test and the code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl


def twilio(token: str, url: str, body: bytes) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1, keyed by the auth token, of the URL and every field's name
    and value, sorted by name, with no separators (twilio.com/docs/usage/webhooks/webhooks-security)."""
    fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    signed = url + "".join(name + value for name, value in sorted(fields))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()
