"""Accessors for the app's long-lived objects (database, keyword rules), kept in app.extensions."""

from __future__ import annotations

from flask import current_app

from gateway.inbound.spool import InboundSpool
from keywords import Rules, RulesHolder
from storage import Database


def database() -> Database:
    """The app's database."""
    db: Database = current_app.extensions["gateway.database"]
    return db


def rules_holder() -> RulesHolder:
    """The hot-reloading holder of the keyword rules."""
    holder: RulesHolder = current_app.extensions["gateway.rules"]
    return holder


def rules() -> Rules:
    """The keyword rules in force now (reloaded when the file changed and is valid)."""
    return rules_holder().current


def spool() -> InboundSpool | None:
    """This machine's spool for messages received while the database is down."""
    return current_app.extensions.get("gateway.spool")
