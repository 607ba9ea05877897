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
accesslog = "-"
errorlog = "-"
# gunicorn's control socket defaults to one path per user: several gateways on one machine
# (tests, benchmarks, side-by-side instances) would fight over it. We do not use it.
control_socket_disable = True
