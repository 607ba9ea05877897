"""How long another machine may not see a spooled opt-out: from the database's return to the opt-out in it.

A private PostgreSQL cluster (started here, on 127.0.0.1 only) and the gateway under gunicorn;
the cluster is stopped, signed STOPs arrive and go to the spool, the cluster stays down for a
while and comes back. The window is the time from the cluster accepting connections again to the
last spooled opt-out being readable by any other machine (a plain query on the database). It
depends on how long the outage was: the replay thread backs off from 0.25 s, doubling, to 10 s.

    .venv/bin/python bench/replay_window.py                  # outages of 2, 10 and 30 s
    .venv/bin/python bench/replay_window.py --outages 5 --stops 50
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: bench/ is not a package

from sqlalchemy import create_engine, func, select  # noqa: E402

from bench.machine import machine  # noqa: E402
from gateway import simulator  # noqa: E402
from storage import Suppression  # noqa: E402
from tests.ops.servers import Gunicorn, PrivateCluster  # noqa: E402

TOKEN = "bench-twilio-token"
SENDER = "+18005550199"


def suppressed(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(Suppression)) or 0)
    except Exception:  # noqa: BLE001 - not accepting connections yet
        return -1
    finally:
        engine.dispose()


def window(cluster: PrivateCluster, url: str, server: Gunicorn, outage: float, stops: int, offset: int) -> float:
    before = suppressed(url)
    cluster.stop("immediate")
    for index in range(stops):
        form = simulator.inbound_form("STOP", f"+1415{offset + index:07d}", SENDER)
        status, _ = simulator.post(server.base + "/webhooks/twilio/sms", form, TOKEN)
        assert status == 200, status
    time.sleep(outage)
    cluster.start()  # returns once the cluster accepts connections
    back = time.monotonic()
    while suppressed(url) < before + stops:
        time.sleep(0.02)
    return time.monotonic() - back


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outages", default="2,10,30", help="seconds the database stays down, comma-separated")
    parser.add_argument("--stops", type=int, default=20, help="STOPs spooled during each outage")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(f"bench/replay_window.py on {machine()}")
    cluster = PrivateCluster()
    cluster.start()
    work = Path(tempfile.mkdtemp(prefix="bench-replay-"))
    url = cluster.new_database("bench_replay")
    server = Gunicorn(work, url, TOKEN, workers=2, REPEAT_REPLY_INTERVAL="0")
    server.start()
    try:
        offset = 0
        for outage in (float(value) for value in args.outages.split(",")):
            windows = []
            for _ in range(args.repeats):
                windows.append(window(cluster, url, server, outage, args.stops, offset))
                offset += args.stops
            print(f"  outage {outage:5.1f} s, {args.stops} spooled STOPs: replayed {statistics.median(windows):5.2f} s"
                  f" (max {max(windows):5.2f} s) after the database came back")
    finally:
        server.stop()
        cluster.destroy()


if __name__ == "__main__":
    main()
