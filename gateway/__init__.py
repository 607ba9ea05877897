"""Inbound SMS keyword gateway: the Flask app (app.py) and what it is built from.

    app.py create_app     config.py database.py errors.py   addresses.py messages.py current.py
    inbound/    the consent path of one message, the local spool and its replay, scope clarification
    providers/  the Provider protocol, registry and webhook routes (base.py); one module per provider
    api/        the JSON API: suppressions, operations, CSV, links, tokens, the OpenAPI document
    pages/      the unsubscribe page behind a short link     dashboard/  compliance staff's pages
    cli/        operator commands                            ops/        health, metrics, logs, keys
    simulator.py  requests signed as Twilio signs them (the `simulate` command, tests, benchmarks)

Dependencies point one way: providers, api, pages, dashboard and cli call into inbound and storage;
inbound never imports them; keywords/ and storage/ never import gateway.
"""

from gateway.app import create_app

__all__ = ["create_app"]
