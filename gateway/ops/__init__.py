"""What operators run the gateway with: health and readiness (health.py), Prometheus metrics (metrics.py),
JSON logs with numbers masked (logs.py), and the ledger's keys from the environment (keys.py).

May import keywords and storage; the consent path imports metrics and logs, never the other way.
"""
