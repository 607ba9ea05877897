"""What a provider is to the gateway (the `Provider` protocol), the registry, and the webhook routes.

A provider adapter verifies a request, decodes an inbound message or a delivery report from it, and
renders the answer. The routes are the same for every provider: `POST /webhooks/<name>/sms` and
`POST /webhooks/<name>/status`, one rule per registered provider (so metrics and logs name the
route as it is called); the consent path behind them (gateway/inbound/path.py) is the app's one
`InboundPath`. Adding a provider is one module with a class like `twilio.Twilio` and one line in
`gateway/providers/__init__.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from flask import Blueprint, Flask, Request, Response, current_app, request

from gateway.ops import logs
from gateway.errors import BadRequest
from gateway.inbound import InboundPath
from gateway.ops.logs import mask_number
from gateway.messages import ConsentReport, InboundMessage

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    """Why a request is not taken: its status (403 unsigned or not ours, 503 not configured) and a short reason."""

    status: int
    reason: str


class Provider(Protocol):
    """One SMS provider's webhook dialect."""

    name: str
    """The path segment: /webhooks/<name>/sms."""

    def verify(self, request: Request, config: Mapping[str, Any]) -> Refusal | None:
        """None when the request carries the provider's valid signature (and is for our account)."""

    def decode_inbound(self, request: Request, default_region: str) -> InboundMessage:
        """The inbound SMS of a verified request, or BadRequest with the reason."""

    def decode_report(self, request: Request, default_region: str) -> ConsentReport | None:
        """A verified delivery report as a ConsentReport when it reports an opt-out, else None (BadRequest if malformed)."""

    def answer(self, reply: str | None) -> Response:
        """The answer to an inbound SMS: the reply inline where the provider allows it, else an acknowledgement."""

    def acknowledge(self) -> Response:
        """The answer to a delivery report."""


_registry: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    """Make `provider` answer at /webhooks/<provider.name>/…; a second one of that name is refused."""
    if provider.name in _registry:
        raise ValueError(f"provider {provider.name!r} is registered twice")
    _registry[provider.name] = provider
    return provider


def registered() -> dict[str, Provider]:
    return dict(_registry)


def text(body: str, status: int) -> Response:
    """A short plain-text answer: what providers and their operators read in a webhook's log."""
    return Response(body + "\n", status=status, mimetype="text/plain")


def inbound_path() -> InboundPath:
    path: InboundPath = current_app.extensions["gateway.inbound"]
    return path


def _read(adapter: Provider, decode: Callable[[Request, str], T]) -> T | Response:
    """The request verified and decoded, or the 403/503/400 answer that refuses it."""
    if (refused := adapter.verify(request, current_app.config)) is not None:
        return text(refused.reason, refused.status)
    try:
        return decode(request, current_app.config["DEFAULT_REGION"])
    except BadRequest as error:
        return text(str(error), 400)


def inbound_sms(provider: str) -> Response:
    adapter, path = _registry[provider], inbound_path()
    # From the start: while this request is verified and decoded, a batch about to commit waits for it.
    with path.arriving():
        message = _read(adapter, adapter.decode_inbound)
        if isinstance(message, Response):
            return message
        outcome = path.handle(message)
        logs.outcome(
            "inbound",
            f"{provider} inbound {message.message_id}: intent={outcome.intent} duplicate={outcome.duplicate}"
            f" spooled={outcome.spooled}",
            {"provider": provider, "message_id": message.message_id, "from": mask_number(message.from_.value),
             "to": message.to.value, "intent": outcome.intent, "duplicate": outcome.duplicate, "spooled": outcome.spooled},
        )
        return adapter.answer(outcome.reply)


def status_callback(provider: str) -> Response:
    adapter = _registry[provider]
    report = _read(adapter, adapter.decode_report)
    if isinstance(report, Response):
        return report
    if report is None:
        # Delivery states that say nothing about consent: accepted and ignored.
        return adapter.acknowledge()
    applied = inbound_path().report(report)
    log.info("%s status %s error %s: suppression applied=%s", provider, report.message_id, report.error_code, applied)
    return adapter.acknowledge()


def init_app(app: Flask) -> None:
    """The webhook routes of every registered provider."""
    bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
    for name in _registry:
        bp.add_url_rule(f"/{name}/sms", f"{name}_sms", inbound_sms, methods=["POST"], defaults={"provider": name})
        bp.add_url_rule(f"/{name}/status", f"{name}_status", status_callback, methods=["POST"], defaults={"provider": name})
    app.register_blueprint(bp)
