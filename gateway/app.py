"""create_app: configuration, database, keyword rules, the consent path, providers, API, pages and commands."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway import api, cli, config, dashboard, pages, providers

from gateway.api import links

from gateway.ops import keys as ledger_keys

from gateway.ops import logs

from gateway.ops import metrics

from gateway.ops import health
from gateway.database import engine_options
from gateway.inbound import InboundPath, clarify, spool
from keywords import RulesHolder
from storage import Database
from storage.local_spool import Spool


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the gateway: configuration, database, keyword rules, blueprints and commands."""
    # INSTANCE_PATH moves instance/ (SQLite file, development secrets) elsewhere, e.g. for tests.
    app = Flask(__name__, instance_relative_config=True, instance_path=os.environ.get("INSTANCE_PATH") or None)
    config.load(app)
    if test_config:
        app.config.from_mapping(test_config)
    # A bad API_TOKENS entry or a missing PUBLIC_BASE_URL stops the start with a one-line reason.
    config.check(app.config)
    # Message bodies and explanations are encrypted at rest; erased numbers kept as keyed hashes.
    ledger_keys.init_app(app)
    # JSON lines with phone numbers masked and no message bodies (GATEWAY_LOG_FORMAT=text for plain).
    logs.init_app(app)

    hops = int(app.config["PROXY_FIX_HOPS"])
    if hops:
        # Only behind proxies we run: each trusted hop may set X-Forwarded-For/Proto/Host/Port/Prefix.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)  # type: ignore[method-assign]

    # hide_parameters: SQL errors in logs must not carry message bodies or numbers.
    database = app.extensions["gateway.database"] = Database(app.config["DATABASE_URL"], **engine_options(app.config))
    rules = app.extensions["gateway.rules"] = RulesHolder(
        app.config["KEYWORDS_FILE"], check_interval=float(app.config["KEYWORDS_CHECK_INTERVAL"])
    )
    # The consent path of every inbound message, whichever provider brought it and however it is replayed.
    path = app.extensions["gateway.inbound"] = InboundPath(app.config, database, rules, Spool(spool.spool_path(app)))

    providers.base.init_app(app)
    app.register_blueprint(api.bp)
    links.init_app(app)
    clarify.init_app(app)
    pages.init_app(app)
    dashboard.init_app(app)
    cli.init_app(app)
    assert path.spool is not None
    spool.init_app(app, path.spool)
    health.init_app(app)
    metrics.init_app(app)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        # Short plain reasons instead of HTML pages: callers are providers and programs.
        return Response(f"{error.code} {error.name}: {error.description}\n", status=error.code, mimetype="text/plain")

    return app
