"""Where one webhook request's CPU goes, stage by stage: signed requests through the app in one thread.

The app runs in-process (Flask's test client, no gunicorn) on SQLite with bench/webhook.py's mix;
each stage is timed with the thread's CPU clock around the function that does it. The same
requests through the bare endpoint (bench/bare.py) give what Flask and the test client cost alone.
Batches hold one message here (one thread); under gunicorn the group commit shares a transaction.

    .venv/bin/python bench/webhook_stages.py --requests 3000
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import machine  # noqa: E402
from bench.webhook import MIX, PATH, SENDERS, TOKEN  # noqa: E402
from gateway import simulator  # noqa: E402

SPENT: dict[str, float] = {}


def timed(owner: Any, name: str, stage: str) -> None:
    """Replace owner.name by a wrapper adding the thread's CPU time it takes to SPENT[stage]."""
    original: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            SPENT[stage] = SPENT.get(stage, 0.0) + time.thread_time() - started

    setattr(owner, name, wrapper)


def instrument() -> None:
    """The stages, by the functions doing them (patched before the app registers its hooks)."""
    import werkzeug.formparser

    from gateway.ops import logs

    from gateway.ops import metrics
    from gateway.inbound.spool import InboundSpool
    from gateway.providers import twilio
    from keywords.rules import Decision, Rules
    from storage.consent import intake

    timed(werkzeug.formparser.FormDataParser, "parse", "form parsing")
    timed(twilio, "_signed_url", "signed URL (request.url)")
    timed(twilio, "_signed_with", "signature (HMAC over the form)")
    timed(twilio, "decode_inbound", "decode From/To (phonenumbers)")
    timed(Rules, "classify", "keyword classification")
    timed(Decision, "to_dict", "decision as a dict")
    timed(intake.Intake, "record", "database: message, consent, ledger")
    timed(InboundSpool, "caught_up", "spool check")
    timed(logging.Logger, "info", "JSON log line")
    for hook in ("_start_timer", "_observe", "observe_decision"):
        timed(metrics, hook, "Prometheus metrics")
    timed(logs, "_start", "JSON log line")
    timed(twilio, "twiml", "TwiML response")


def requests(count: int) -> list[tuple[str, str]]:
    rng = random.Random(5)
    bodies = [body for body, weight in MIX for _ in range(weight)]
    out = []
    for _ in range(count):
        form = simulator.inbound_form(rng.choice(bodies), f"+1415{rng.randrange(SENDERS):07d}", "+18005550199")
        out.append((urllib.parse.urlencode(form), simulator.sign("http://localhost" + PATH, form, TOKEN)))
    return out


def run(app: Any, batch: list[tuple[str, str]]) -> float:
    """Post every request; the thread's CPU seconds per request."""
    client = app.test_client()
    started = time.thread_time()
    for data, signature in batch:
        response = client.post(PATH, data=data, content_type="application/x-www-form-urlencoded",
                               headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.data
    return (time.thread_time() - started) / len(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()

    instrument()
    from bench.bare import app as bare
    from gateway import create_app
    from storage import crypto
    from storage.migrate import upgrade

    work = Path(tempfile.mkdtemp(prefix="bench-webhook-stages-"))
    url = f"sqlite:///{work / 'gateway.db'}"
    upgrade(url)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-metrics-"))
    app = create_app({"DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "LEDGER_KEYS": crypto.generate_fernet_key(),
                      "NUMBER_HASH_KEY": crypto.generate_hash_key(), "KEYWORDS_FILE": str(ROOT / "keywords.yaml"),
                      "SPOOL_PATH": str(work / "spool.db"), "PUBLIC_BASE_URL": None})
    logging.getLogger().handlers[-1].setStream(open(work / "gateway.log", "w"))  # type: ignore[attr-defined]
    warm, measured = requests(2 * args.requests)[: args.requests], requests(2 * args.requests)[args.requests:]
    run(app, warm)
    run(bare, warm)
    SPENT.clear()
    total = run(app, measured)
    stages = {stage: seconds / len(measured) for stage, seconds in SPENT.items()}
    baseline = run(bare, measured)

    print(f"machine: {machine()}")
    print(f"{len(measured)} signed requests, one thread, SQLite; CPU microseconds per request")
    for stage, seconds in sorted(stages.items(), key=lambda item: -item[1]):
        print(f"  {stage:<40} {seconds * 1e6:7.0f}")
    rest = total - sum(stages.values()) - baseline
    print(f"  {'the rest of the view and hooks':<40} {rest * 1e6:7.0f}")
    print(f"  {'Flask + test client (bare endpoint)':<40} {baseline * 1e6:7.0f}")
    print(f"  {'total':<40} {total * 1e6:7.0f}")


if __name__ == "__main__":
    main()
