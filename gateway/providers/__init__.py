"""Provider adapters: base.py (the `Provider` protocol, the registry, the webhook routes) and one module per provider.

Each adapter: verify the signature -> decode into an InboundMessage or a ConsentReport -> normalise
the addresses; the routes hand the message to the consent path (gateway/inbound/) and the adapter
renders the answer. May import gateway.inbound, gateway.messages, gateway.addresses, gateway.config
and gateway.errors.
"""

from gateway.providers import base, twilio

base.register(twilio.Twilio())

__all__ = ["base", "twilio"]
