"""What the operator commands share: the actor they record, and numbers, senders and topics as the API reads them."""

from __future__ import annotations

import getpass

import click
from flask import current_app

from gateway.api import csv_rows
from gateway.errors import InvalidAddress
from storage.models import GLOBAL_SCOPE


def default_actor() -> str:
    return f"cli:{getpass.getuser()}"


def region() -> str:
    return str(current_app.config["DEFAULT_REGION"])


def number(raw: str) -> str:
    try:
        return csv_rows.normalise(raw, region())
    except InvalidAddress as error:
        raise click.BadParameter(f"{raw!r}: {error}") from None


def scope(raw: str | None) -> str:
    if not raw:
        return GLOBAL_SCOPE
    try:
        return csv_rows.scope_of(raw, region())
    except InvalidAddress as error:
        raise click.BadParameter(f"sender {raw!r}: {error}") from None


def topic(raw: str | None) -> str:
    try:
        return csv_rows.topic_of(raw)
    except InvalidAddress as error:
        raise click.BadParameter(str(error)) from None
