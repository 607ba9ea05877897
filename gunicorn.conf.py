"""Gunicorn settings for `make run`; override any of them with GUNICORN_CMD_ARGS."""

import os

bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
# Providers retry on timeouts; keep-alive lets a burst reuse connections from a load balancer.
keepalive = 5
errorlog = "-"
# gunicorn's control socket defaults to one path per user: several gateways on one machine
# (tests, benchmarks, side-by-side instances) would fight over it. We do not use it.
control_socket_disable = True
# Our JSON request log (gateway/ops/logs.py) replaces gunicorn's access log, whose request line
# would print the phone number in an API path unmasked.
accesslog = None

# Prometheus counters from every worker add up in /metrics through files in this directory
# (prometheus-client's multiprocess mode); a fresh one per server start unless given.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="gateway-metrics-")


def on_starting(server):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """Refuse bad settings before any worker boots; start with empty metric files."""
    import glob

    from gateway import config

    # A ConfigError is a RuntimeError: gunicorn prints its one line as "Error: ..." and exits 1,
    # where a worker failing create_app would print a traceback per boot attempt.
    config.startup_check()

    for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(path)


def child_exit(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """A dead worker's live gauges stop counting; its counters stay in the totals."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
