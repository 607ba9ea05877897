"""Twilio: inbound SMS webhook and status callbacks, verified with twilio's RequestValidator."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from functools import lru_cache
from typing import cast
from urllib.parse import ParseResult, urlparse

from flask import Blueprint, Response, current_app, request
from twilio.request_validator import RequestValidator, add_port, compare, get_signature_algorithm, remove_port
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.datastructures import MultiDict

from gateway import clarify, logs, replylimits
from gateway.addresses import SERVICE_SID, Address, parse_address
from gateway.config import host_may_decide
from gateway.errors import BadRequest, InvalidAddress
from gateway.inbound import arriving, handle_consent_report, handle_inbound
from gateway.messages import ConsentReport, InboundMessage
from gateway.logs import mask_number
from gateway.state import database, rules, spool

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/webhooks/twilio")

PROVIDER = "twilio"
SIGNATURE_HEADER = "X-Twilio-Signature"
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""Twilio SIDs are 34 letters and digits; anything else that fits the stored column is tolerated."""
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
INBOUND_FIELDS = ("MessageSid", "From", "To")
SINGLE_VALUED = ("MessageSid", "SmsSid", "From", "To", "Body", "MessagingServiceSid", "AccountSid", "ErrorCode", "MessageStatus")
CONSENT_ERROR_CODES = {
    "21610": "recipient replied STOP at the carrier (Attempt to send to unsubscribed recipient)",
}
"""Twilio error codes that mean the recipient has withdrawn consent, as data."""


def _text(body: str, status: int) -> Response:
    return Response(body + "\n", status=status, mimetype="text/plain")


def _signed_url() -> str | None:
    """The URL Twilio signed: PUBLIC_BASE_URL + path and query; the request URL only where the Host may decide."""
    base: str | None = current_app.config["PUBLIC_BASE_URL"]
    if not base:
        # Else the client's Host header would choose the URL its own signature is checked against.
        return request.url if host_may_decide(current_app.config) else None
    query = request.query_string.decode("latin-1")
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def _verify() -> Response | None:
    """None when the request carries a valid Twilio signature; else the 403/503 answer."""
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    if not token:
        log.error("TWILIO_AUTH_TOKEN is not configured; refusing webhooks rather than accepting them unsigned")
        return _text("signature cannot be checked: TWILIO_AUTH_TOKEN is not configured", 503)
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        return _text(f"missing {SIGNATURE_HEADER} header", 403)
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    # While Twilio's secondary token is promoted, deliveries signed with the old one are still in flight.
    tokens = (token, current_app.config.get("TWILIO_PREVIOUS_AUTH_TOKEN"))
    signed_url = _signed_url()
    if signed_url is None:
        log.error("PUBLIC_BASE_URL is not configured; refusing webhooks rather than trusting the Host header")
        return _text("signature cannot be checked: PUBLIC_BASE_URL is not configured", 503)
    url = urlparse(signed_url)
    params = _Params(request.form)
    if not any(t and _signed_with(t, url, params, signature, algorithm) for t in tokens):
        return _text("invalid Twilio signature", 403)
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


def _scopes(form: MultiDict[str, str], our_address: Address) -> tuple[str, ...]:
    # A Messaging Service shares opt-outs across its numbers, as Twilio's own handling does.
    service = _single(form, "MessagingServiceSid", required=False)
    if service and not SERVICE_SID.match(service.strip()):
        raise BadRequest("MessagingServiceSid: not a Messaging Service SID (MG and 32 hex digits)")
    return (service.strip(), our_address.value) if service else (our_address.value,)


def _message_id(form: MultiDict[str, str], *names: str) -> str:
    """The first of `names` present, checked: it is stored and compared as the provider's event id."""
    value = next((v for name in names if (v := _single(form, name, required=False))), None)
    if value is None:
        raise BadRequest(f"missing field {names[0]}")
    if not MESSAGE_ID.match(value.strip()):
        raise BadRequest(f"{names[0]}: not a message id (1 to 64 letters, digits, - or _)")
    return value.strip()


def decode_inbound(form: MultiDict[str, str], default_region: str) -> InboundMessage:
    """Twilio's inbound form as an InboundMessage, or BadRequest with the reason."""
    for name in SINGLE_VALUED:
        _single(form, name, required=False)
    message_id = _message_id(form, "MessageSid")
    try:
        from_ = parse_address(_single(form, "From") or "", default_region)
        to = parse_address(_single(form, "To") or "", default_region)
    except InvalidAddress as error:
        raise BadRequest(f"From/To: {error}") from None
    # PostgreSQL text cannot hold NUL, and no handset sends one: drop it rather than lose the message.
    body = form.get("Body", "").replace("\x00", "")
    return InboundMessage(PROVIDER, message_id, from_, to, body, _scopes(form, to))


def decode_report(form: MultiDict[str, str], default_region: str) -> ConsentReport | None:
    """A status callback as a ConsentReport when it reports an opt-out, else None."""
    error_code = (_single(form, "ErrorCode", required=False) or "").strip()
    if error_code not in CONSENT_ERROR_CODES:
        return None
    message_id = _message_id(form, "MessageSid", "SmsSid")
    try:
        recipient = parse_address(_single(form, "To") or "", default_region)
        ours = parse_address(_single(form, "From") or "", default_region)
    except InvalidAddress as error:
        raise BadRequest(f"From/To: {error}") from None
    if not recipient.is_phone:
        raise BadRequest("To: an opt-out report must name a phone number")
    status = (_single(form, "MessageStatus", required=False) or "undelivered").strip()
    if not MESSAGE_ID.match(status) or len(status) > 32:
        raise BadRequest("MessageStatus: not a message status")
    return ConsentReport(PROVIDER, message_id, status, error_code, recipient, _scopes(form, ours))


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


@bp.post("/sms")
def inbound_sms() -> Response:
    # From the start: while this request is verified and decoded, a batch about to commit waits for it.
    with arriving(database()):
        return _inbound_sms()


def _inbound_sms() -> Response:
    if (refused := _verify()) is not None:
        return refused
    try:
        message = decode_inbound(request.form, current_app.config["DEFAULT_REGION"])
    except BadRequest as error:
        return _text(str(error), 400)
    # GATEWAY_DOUBLE_OPT_IN_HOURS: how long a JOIN waits for its YES.
    window = timedelta(hours=float(current_app.config.get("DOUBLE_OPT_IN_HOURS", 24)))
    current = rules()
    # GATEWAY_CLARIFY_SCOPE: a STOP may ask which topics it covers (None while off).
    clarifier = clarify.from_config(current_app.config, current)
    outcome = handle_inbound(message, current, database(), spool(), replylimits.policy(), opt_in_window=window,
                             clarifier=clarifier)
    logs.outcome(
        "inbound",
        f"twilio inbound {message.message_id}: intent={outcome.intent} duplicate={outcome.duplicate} spooled={outcome.spooled}",
        {"provider": PROVIDER, "message_id": message.message_id, "from": mask_number(message.from_.value),
         "to": message.to.value, "intent": outcome.intent, "duplicate": outcome.duplicate, "spooled": outcome.spooled},
    )
    return twiml(outcome.reply)


@bp.post("/status")
def status_callback() -> Response:
    if (refused := _verify()) is not None:
        return refused
    try:
        report = decode_report(request.form, current_app.config["DEFAULT_REGION"])
    except BadRequest as error:
        return _text(str(error), 400)
    if report is None:
        # Delivery states that say nothing about consent: accepted and ignored.
        return Response(status=204)
    applied = handle_consent_report(report, database())
    log.info("twilio status %s error %s: suppression applied=%s", report.message_id, report.error_code, applied)
    return Response(status=204)
