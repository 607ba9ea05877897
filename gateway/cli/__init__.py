"""Operator commands (`flask --app wsgi ...`): db, ledger, suppressions, spool, staff, simulate.

One module per command group; arguments.py holds what they share. May import any gateway package
and storage; nothing imports the commands but create_app.
"""

from __future__ import annotations

from flask import Flask

from gateway.cli.db import db_cli, dev_secrets
from gateway.cli.ledger import ledger_cli
from gateway.cli.simulate import simulate
from gateway.cli.spool import spool_cli
from gateway.cli.staff import staff_cli
from gateway.cli.suppressions import suppressions_cli


def init_app(app: Flask) -> None:
    """Register the operator commands on the app."""
    for command in (db_cli, dev_secrets, simulate, ledger_cli, suppressions_cli, spool_cli, staff_cli):
        app.cli.add_command(command)
