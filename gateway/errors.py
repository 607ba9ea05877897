"""Gateway exceptions.

    GatewayError                 base of everything the gateway raises on purpose
    ├── BadRequest               malformed input: answered 400 with the reason
    │   └── InvalidAddress       a phone number or address that cannot be used
    ├── Unauthenticated          missing or wrong signature / token: 401 or 403
    └── ConfigError              a setting the gateway refuses to start with (one-line reason)
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class BadRequest(GatewayError):
    """The request is malformed; the message is the short reason given back."""


class InvalidAddress(BadRequest):
    """An address that is neither a usable phone number, a short code nor an alphanumeric sender id."""


class Unauthenticated(GatewayError):
    """The caller could not be authenticated."""


class ConfigError(GatewayError, RuntimeError):
    """A setting the gateway refuses to start with; the message is one line and names no secret.

    A RuntimeError too, so gunicorn's master prints it as one `Error:` line and exits.
    """
