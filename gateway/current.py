"""Accessors for the app's long-lived objects (database, keyword rules), kept in app.extensions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from flask import current_app

from gateway.inbound.spool import InboundSpool
from keywords import Rules, RulesHolder
from storage import Database
from storage.consent import ConsentChange
from storage.types import utcnow


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


def reached(change: ConsentChange, chosen: str | None = None) -> ConsentChange:
    """`change` with the sender scopes it covers by the brands in force, as a keyword STOP or START to
    its scopes would (`chosen`: the reach staff picked instead), and the ledger told which reach and why."""
    reach = rules().file.brands.covering(change.scopes, change.action, utcnow().date(), chosen)
    return replace(change, scopes=reach.scopes, explanation={**change.explanation, **reach.explanation()})


def import_reach(chosen: str | None = None) -> tuple[Callable[[str], tuple[str, ...]], dict[str, str]]:
    """For an import: the scopes an imported opt-out of each sender scope covers, and what the ledger records of it."""
    brands, day = rules().file.brands, utcnow().date()

    def covered(scope: str) -> tuple[str, ...]:
        return brands.covering((scope,), "opt_out", day, chosen).scopes

    reason = f"chosen: {chosen}" if chosen else "each row's sender reaches as a STOP to it would"
    return covered, {"reach": chosen or "brand_setting", "reach_reason": reason}
