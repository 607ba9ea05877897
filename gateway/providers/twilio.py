"""Twilio: inbound SMS webhook and status callbacks, verified with twilio's RequestValidator.

Re-split replays. Twilio signs the URL followed by every field's name and value, sorted by name,
with no separator: any form whose names and values concatenate to the same string carries the
same signature (`MessageSid=SM…&NumMedia=0` and `MessageSid=SM…NumMedia0`). A captured request
can therefore be replayed cut into other fields. What each decision depends on, and why a
re-split cannot move it:

- MessageSid (de-duplication). It must be Twilio's shape: SM or MM and 32 hex digits, so its value
  cannot swallow or lose a neighbour, and SmsSid/SmsMessageSid must equal it. In Twilio's own
  text "MessageSid" followed by a SID occurs only there and inside SmsMessageSid (the same id),
  so every re-split of a captured message carries its MessageSid: a duplicate, answered as the
  first delivery was and changing nothing. AccountSid (AC…) and MessagingServiceSid (MG…, a
  consent scope) are pinned by their shapes the same way.
- From (whose consent changes). Required, and parsed: a number that swallowed the next field
  ("+14155550100FromCity…") is no number. The one free text an outsider writes is Body, which
  sorts before From: a person who texts us
  "START" + "From+1<someone else>" + "MessageSidSM<fresh id>" … has their own message signed, and
  a re-split of it reads From=<someone else>, a fresh MessageSid, Body=START, with the real From
  and the rest hidden inside a later field. Then the real "From" text lies after the forged From
  and is not the start of a From field; so from the From field on, "From" may occur only where
  one of Twilio's From* fields (FROM_FIELDS) starts (_check_from_boundary). Left open: a sender
  whose own address is literally "City", "Zip", "State" or "Country" on a form without Twilio's
  From* fields.
- Body (the keyword). It can only swallow the fields after it, which begin with the required
  From; fields such as NumMedia, MediaUrl0 or MessageSid sort after From and cannot reach it.
  Cutting a person's Body shorter keeps their MessageSid: a duplicate.
- To (the scope). Required, parsed like From, and one of the kinds Twilio delivers to (a phone
  number or short code: "86753ToCity" would read as a sender id). Forging it alone changes only
  the scope of the author's own consent, which they can change by texting that number.
- Status callbacks carry no text an outsider writes. MessageSid and MessageStatus (lower-case
  letters and _, so it cannot swallow the capitalised field after it) are required and form the
  de-duplication key; anything else missing never refuses a signed opt-out (a 4xx would lose a
  carrier STOP): it is applied as far as the report allows and the gap is logged.
- AccountSid. With TWILIO_ACCOUNT_SID set it is checked with the signature on both routes (Twilio
  always sends it): a delivery for another account is not ours, 403.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, cast
from urllib.parse import ParseResult, urlparse

from flask import Request, Response
from twilio.request_validator import RequestValidator, add_port, compare, get_signature_algorithm, remove_port
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.datastructures import MultiDict

from gateway.addresses import Address, parse_address, register_service_id
from gateway.config import host_may_decide
from gateway.errors import BadRequest, InvalidAddress
from gateway.messages import ConsentReport, InboundMessage
from gateway.providers.base import Refusal
from storage import GLOBAL_SCOPE

log = logging.getLogger(__name__)

PROVIDER = "twilio"
SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
MESSAGE_SID_PREFIXES = ("SM", "MM")
SID_PREFIXES: dict[str, tuple[str, ...]] = {
    "MessageSid": MESSAGE_SID_PREFIXES,
    "SmsSid": MESSAGE_SID_PREFIXES,
    "SmsMessageSid": MESSAGE_SID_PREFIXES,
    "AccountSid": ("AC",),
    "MessagingServiceSid": ("MG",),
}
"""Twilio's id shapes: a two-letter prefix naming the kind of resource, then 32 hex digits."""
SID_SHAPES = {
    name: re.compile(rf"(?:{'|'.join(prefixes)})[0-9a-fA-F]{{32}}") for name, prefixes in SID_PREFIXES.items()
}
# A Messaging Service SID names a pool of senders: a sender scope wherever a number is (API, CLI, imports).
register_service_id(SID_SHAPES["MessagingServiceSid"])
MESSAGE_SID_ALIASES = ("SmsSid", "SmsMessageSid")
"""Deprecated copies of MessageSid that Twilio still sends: equal to it when present."""
FROM_FIELDS = frozenset({"From", "FromCity", "FromCountry", "FromState", "FromZip"})
"""Twilio's fields whose names begin with From: the only places "From" may start after the From field."""
RECIPIENT_KINDS = frozenset({"e164", "short_code"})
"""What an inbound To can be: Twilio delivers SMS to our numbers and short codes only."""
MESSAGE_STATUS = re.compile(r"[a-z_]{1,32}")
"""Twilio's message statuses (queued, sent, delivered, undelivered, partially_delivered, ...)."""
SINGLE_VALUED = ("MessageSid", "SmsSid", "SmsMessageSid", "From", "To", "Body", "MessagingServiceSid", "AccountSid",
                 "ErrorCode", "MessageStatus")
CONSENT_ERROR_CODES = {
    "21610": "recipient replied STOP at the carrier (Attempt to send to unsubscribed recipient)",
}
"""Twilio error codes that mean the recipient has withdrawn consent, as data."""


def _signed_url(request: Request, config: Mapping[str, Any]) -> str | None:
    """The URL Twilio signed: PUBLIC_BASE_URL + path and query; the request URL only where the Host may decide."""
    base: str | None = config["PUBLIC_BASE_URL"]
    if not base:
        # Else the client's Host header would choose the URL its own signature is checked against.
        return request.url if host_may_decide(config) else None
    query = request.query_string.decode("latin-1")
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def verify(request: Request, config: Mapping[str, Any]) -> Refusal | None:
    """None when the request carries a valid Twilio signature (and, with TWILIO_ACCOUNT_SID, is that account's)."""
    token = config["TWILIO_AUTH_TOKEN"]
    if not token:
        log.error("TWILIO_AUTH_TOKEN is not configured; refusing webhooks rather than accepting them unsigned")
        return Refusal(503, "signature cannot be checked: TWILIO_AUTH_TOKEN is not configured")
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        return Refusal(403, f"missing {SIGNATURE_HEADER} header")
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    # While Twilio's secondary token is promoted, deliveries signed with the old one are still in flight.
    tokens = (token, config.get("TWILIO_PREVIOUS_AUTH_TOKEN"))
    signed_url = _signed_url(request, config)
    if signed_url is None:
        log.error("PUBLIC_BASE_URL is not configured; refusing webhooks rather than trusting the Host header")
        return Refusal(503, "signature cannot be checked: PUBLIC_BASE_URL is not configured")
    url = urlparse(signed_url)
    params = _Params(request.form)
    if not any(t and _signed_with(t, url, params, signature, algorithm) for t in tokens):
        return Refusal(403, "invalid Twilio signature")
    return _check_account(request.form, config.get("TWILIO_ACCOUNT_SID"))


def _check_account(form: MultiDict[str, str], expected: str | None) -> Refusal | None:
    """With TWILIO_ACCOUNT_SID set, only that account's deliveries are ours: others get 403."""
    if not expected:
        return None
    values = form.getlist("AccountSid")
    if not values:
        return Refusal(403, "missing AccountSid (TWILIO_ACCOUNT_SID is set)")
    if len(values) > 1 or not compare(values[0], expected):
        return Refusal(403, "AccountSid does not match TWILIO_ACCOUNT_SID")
    return None


class _Params:
    """The form as twilio's validator reads it, with `getall`: it tries that first, and fails over per field."""

    __slots__ = ("form",)

    def __init__(self, form: MultiDict[str, str]) -> None:
        self.form = form

    def __iter__(self) -> Iterator[str]:
        return iter(self.form)

    def getall(self, name: str) -> list[str]:
        # MultiDict keeps each field's values as a list: read it as it is (twilio only sorts a copy).
        # werkzeug types MultiDict[K, V] as a dict[K, V]; underneath it is the dict[K, list[V]] read here.
        values: list[str] = dict.__getitem__(cast("dict[str, list[str]]", self.form), name)
        return values


def _signed_with(token: str, url: ParseResult, params: _Params, signature: str, algorithm: str) -> bool:
    """RequestValidator.validate's check, computing the second URL form only when the first does not match.

    Twilio signs the URL with or without the default port, depending on the caller: both are
    tried, the URL as it reached us first, since that is the one a caller usually signed.
    """
    validator = RequestValidator(token)
    forms = (add_port(url), remove_port(url)) if url.port else (remove_port(url), add_port(url))
    try:
        return any(compare(validator.compute_signature(candidate, params, algorithm), signature) for candidate in forms)
    except ValueError:
        log.warning("unsupported Twilio signature algorithm %r: request refused", algorithm)
        return False


def _single(form: MultiDict[str, str], name: str, required: bool = True) -> str | None:
    values = form.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"field {name} is repeated")
    if not values or not values[0].strip():
        if required:
            raise BadRequest(f"missing field {name}")
        return None
    return values[0]


def _sid(form: MultiDict[str, str], name: str, required: bool = False) -> str | None:
    """A Twilio SID field exactly as Twilio writes it (SID_PREFIXES), or BadRequest."""
    value = _single(form, name, required)
    if value is not None and not SID_SHAPES[name].fullmatch(value):
        raise BadRequest(f"{name}: not a Twilio SID ({' or '.join(SID_PREFIXES[name])} and 32 hex digits)")
    return value


def _message_id(form: MultiDict[str, str]) -> str:
    """MessageSid, checked: it is stored and compared as the provider's event id."""
    sid = _sid(form, "MessageSid", required=True)
    assert sid is not None  # required
    for alias in MESSAGE_SID_ALIASES:
        if (other := _sid(form, alias)) is not None and other != sid:
            raise BadRequest(f"{alias}: differs from MessageSid")
    return sid


def _check_from_boundary(form: MultiDict[str, str]) -> None:
    """From the From field on, "From" starts only Twilio's From* fields: else From was cut out of Body.

    The text is the one Twilio signed (sorted names, each followed by its values), so a "From" cut
    across a field's name and value, or across two fields, is found as well.
    """
    names = sorted(set(form))
    if "From" not in names:
        return
    text, starts = "", set()
    for name in names[names.index("From"):]:
        for value in sorted(set(form.getlist(name))):
            if name in FROM_FIELDS:
                starts.add(len(text))
            text += name + value
    if any(found.start() not in starts for found in re.finditer("From", text)):
        raise BadRequest("From: the signed fields are not split as Twilio sends them (a re-split replay)")


def decode_inbound(form: MultiDict[str, str], default_region: str) -> InboundMessage:
    """Twilio's inbound form as an InboundMessage, or BadRequest with the reason."""
    for name in SINGLE_VALUED:
        _single(form, name, required=False)
    message_id = _message_id(form)
    _sid(form, "AccountSid")
    # A Messaging Service shares opt-outs across its numbers, as Twilio's own handling does.
    service = _sid(form, "MessagingServiceSid")
    raw_from, raw_to = _single(form, "From") or "", _single(form, "To") or ""
    _check_from_boundary(form)
    try:
        from_ = parse_address(raw_from, default_region)
        to = parse_address(raw_to, default_region)
    except InvalidAddress as error:
        raise BadRequest(f"From/To: {error}") from None
    if to.kind not in RECIPIENT_KINDS:
        raise BadRequest("To: not an address Twilio delivers to (a phone number or short code)")
    # PostgreSQL text cannot hold NUL, and no handset sends one: drop it rather than lose the message.
    body = form.get("Body", "").replace("\x00", "")
    return InboundMessage(PROVIDER, message_id, from_, to, body, (service, to.value) if service else (to.value,))


def decode_report(form: MultiDict[str, str], default_region: str) -> ConsentReport | None:
    """A status callback as a ConsentReport when it reports an opt-out, else None.

    Only its id and status are required: a signed opt-out missing anything else is applied as far
    as it can be, never refused (a 4xx would lose a carrier STOP).
    """
    for name in SINGLE_VALUED:
        _single(form, name, required=False)
    message_id = _message_id(form)
    status = _single(form, "MessageStatus") or ""
    if not MESSAGE_STATUS.fullmatch(status):
        raise BadRequest("MessageStatus: not a Twilio message status (lower-case letters and _)")
    error_code = (_single(form, "ErrorCode", required=False) or "").strip()
    if error_code not in CONSENT_ERROR_CODES:
        return None
    recipient = _report_address(form, "To", default_region)
    if recipient is None or not recipient.is_phone:
        log.warning("twilio opt-out report %s names no phone number in To: nothing to suppress", message_id)
        return None
    scopes = _report_scopes(form, message_id, default_region)
    return ConsentReport(PROVIDER, message_id, status, error_code, recipient, scopes)


def _report_address(form: MultiDict[str, str], name: str, default_region: str) -> Address | None:
    try:
        return parse_address(raw, default_region) if (raw := _single(form, name, required=False)) else None
    except InvalidAddress:
        return None


def _report_scopes(form: MultiDict[str, str], message_id: str, default_region: str) -> tuple[str, ...]:
    """The service and our number the report names; neither usable: every sender (opting out too widely is safe)."""
    raw = _single(form, "MessagingServiceSid", required=False)
    service = raw if raw and SID_SHAPES["MessagingServiceSid"].fullmatch(raw) else None
    ours = _report_address(form, "From", default_region)
    scopes = tuple(scope for scope in (service, ours.value if ours else None) if scope)
    if not scopes:
        log.warning("twilio opt-out report %s names no usable sender: suppressed for every sender", message_id)
    return scopes or (GLOBAL_SCOPE,)


def twiml(reply: str | None) -> Response:
    """Exactly one <Message> when there is something to say, else an empty <Response/>."""
    return Response(_twiml_text(reply), mimetype="application/xml")


@lru_cache(maxsize=256)
def _twiml_text(reply: str | None) -> str:
    # Replies come from the keyword file's few texts: each is rendered once.
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return str(response)


class Twilio:
    """Twilio as a `Provider`: form posts signed with X-Twilio-Signature, TwiML answers."""

    name = PROVIDER

    def verify(self, request: Request, config: Mapping[str, Any]) -> Refusal | None:
        return verify(request, config)

    def decode_inbound(self, request: Request, default_region: str) -> InboundMessage:
        return decode_inbound(request.form, default_region)

    def decode_report(self, request: Request, default_region: str) -> ConsentReport | None:
        return decode_report(request.form, default_region)

    def answer(self, reply: str | None) -> Response:
        return twiml(reply)

    def acknowledge(self) -> Response:
        return Response(status=204)
