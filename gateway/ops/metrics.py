"""Prometheus metrics: requests, latency, decisions by intent and tier, spool depth, reload failures.

Several gunicorn workers: set PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py does) and every worker
writes its counters there; `/metrics`, answered by any worker, adds them all up. Spool depth and
keyword reload state are read when scraped. `/metrics` is open to loopback callers only, unless
GATEWAY_METRICS_TOKEN is set: then any caller with `Authorization: Bearer <that token>`.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from keywords import RulesHolder

bp = Blueprint("metrics", __name__)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("gateway_http_requests_total", "HTTP requests answered, by route and status.", ["route", "method", "status"])
LATENCY = Histogram(
    "gateway_http_request_duration_seconds", "Time to answer an HTTP request, by route.", ["route"], buckets=LATENCY_BUCKETS
)
DECISIONS = Counter("gateway_decisions_total", "Inbound messages classified, by intent and match tier.", ["intent", "tier"])
SPOOLED = Counter("gateway_spooled_messages_total", "Inbound messages written to the local spool (database down).")
REPLIES_WITHHELD = Counter("gateway_replies_withheld_total", "Auto-replies not sent because of a reply limit.", ["limit"])


def observe_decision(intent: str, tier: str | None) -> None:
    """Count one classified inbound message."""
    DECISIONS.labels(intent, tier or "none").inc()


class LiveCollector(Collector):
    """Values read at scrape time: this machine's spool depth and this worker's keyword file state."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        spool = self.app.extensions.get("gateway.spool")
        if spool is not None:
            depth = GaugeMetricFamily("gateway_spool_depth", "Messages in the local spool waiting for the database.")
            depth.add_metric([], spool.spool.depth())
            yield depth
            failures = CounterMetricFamily("gateway_spool_replay_failures", "Failed spool replay attempts (this worker).")
            failures.add_metric([], spool.replay_failures)
            yield failures
        holder: RulesHolder = self.app.extensions["gateway.rules"]
        holder.current  # noqa: B018 - checks the file for edits, as a request would
        reloads = CounterMetricFamily(
            "gateway_keywords_reload_failures", "Edits of the keyword file refused as invalid (this worker)."
        )
        reloads.add_metric([], holder.reload_failures)
        yield reloads
        failing = GaugeMetricFamily("gateway_keywords_reload_failing", "1 while the keyword file on disk is refused.")
        failing.add_metric([], 1 if holder.last_error else 0)
        yield failing


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), str(token).encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics() -> Response:
    if not _allowed():
        return Response("403 Forbidden: /metrics is for loopback or a bearer METRICS_TOKEN\n", 403, mimetype="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        shared = generate_latest(registry)
    else:
        shared = generate_latest(REGISTRY)
    live = CollectorRegistry()
    live.register(LiveCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    return Response(shared + generate_latest(live), mimetype=CONTENT_TYPE_PLAIN_0_0_4)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    REQUESTS.labels(route, request.method, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(route).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Time and count every request, and serve /metrics."""
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)
