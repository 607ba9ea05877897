"""Build, sign and send requests exactly as Twilio does, for newcomers, tests and benchmarks."""

from __future__ import annotations

import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32


def new_sid(prefix: str = "SM") -> str:
    """A random Twilio-style 34-character SID."""
    return prefix + secrets.token_hex(16)


def inbound_form(
    body: str,
    from_: str,
    to: str,
    *,
    message_sid: str | None = None,
    messaging_service_sid: str | None = None,
) -> dict[str, str]:
    """The form Twilio posts for an inbound SMS, with its full field set."""
    sid = message_sid or new_sid()
    form = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "ToZip": "94105",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": from_,
        "ApiVersion": "2010-04-01",
    }
    if messaging_service_sid:
        form["MessagingServiceSid"] = messaging_service_sid
    return form


def sign(url: str, form: Mapping[str, str], token: str) -> str:
    """The X-Twilio-Signature Twilio would send for this URL and form."""
    signature: str = RequestValidator(token).compute_signature(url, dict(form))  # twilio is untyped
    return signature


def post(url: str, form: Mapping[str, str], token: str, *, sign_url: str | None = None, timeout: float = 10.0) -> tuple[int, str]:
    """POST a signed form to a running gateway; returns (status, body)."""
    data = urllib.parse.urlencode(form).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sign(sign_url or url, form, token),
        "User-Agent": "TwilioProxy/1.1",
    }
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
