"""The typed values that cross from a provider adapter into the consent path."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.addresses import Address


@dataclass(frozen=True)
class InboundMessage:
    """One inbound SMS, decoded and normalised by its provider adapter."""

    provider: str
    message_id: str
    from_: Address
    to: Address
    body: str
    scopes: tuple[str, ...]
    """The sender scopes the person wrote to, the main one first (a messaging service, then the number)."""

    @property
    def sender_scope(self) -> str:
        return self.scopes[0]


@dataclass(frozen=True)
class ConsentReport:
    """A provider's report that a recipient has opted out at the carrier (e.g. Twilio error 21610)."""

    provider: str
    message_id: str
    status: str
    error_code: str
    recipient: Address
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """What the consent path decided for one inbound message, for the adapter to answer with."""

    intent: str
    reply: str | None
    duplicate: bool
    spooled: bool = False
    """True when the database was unreachable and the message waits in the local spool."""
