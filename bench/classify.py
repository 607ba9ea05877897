"""Benchmark Rules.classify on a mixed corpus: messages/second, p50/p99 latency, peak memory."""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: bench/ is not a package

from keywords import load_rules  # noqa: E402
from keywords.rules import compile_rules  # noqa: E402

ORDINARY = [
    "Hi, what time does the store open on Saturday?",
    "Thanks! See you at the bus stop near the mall",
    "can I cancel my order #12345 please",
    "When does the sale end? I want the blue one in size M",
    "lol ok 👍",
    "Is this offer valid online too?",
    "Quite a deal, thanks",
    "Necesito ayuda con mi pedido de ayer",
    "Когда закончится акция на кроссовки?",
    "我想知道优惠什么时候结束",
]


def corpus() -> list[str]:
    rows = []
    for line in (ROOT / "tests" / "keywords" / "corpus" / "dev.tsv").read_text(encoding="utf-8").splitlines():
        if not line.startswith("#") and line.strip("\t"):
            rows.append(line.split("\t")[0].replace("\\n", "\n"))
    # Real traffic is mostly conversation: weight ordinary messages 1:1 with the labelled corpus.
    return rows + ORDINARY * (len(rows) // len(ORDINARY))


def main() -> None:
    path = os.environ.get("KEYWORDS_FILE") or str(ROOT / "keywords.yaml")
    t0 = time.perf_counter()
    rules = load_rules(path)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    compile_rules(Path(path).read_bytes(), str(path))  # a hot reload of a changed file: never cached
    reload_s = time.perf_counter() - t0
    tracemalloc.start()  # measured apart: tracing slows the load several times over
    compile_rules(Path(path).read_bytes(), str(path))
    _, load_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    messages = corpus()
    rounds = max(1, 100_000 // len(messages))
    clock = time.perf_counter_ns
    start = clock()
    for m in messages:  # the first pass fills the caches (fold table, words), as a running server does
        rules.classify(m)
    cold_s = (clock() - start) / 1e9
    latencies: list[int] = []
    classify = rules.classify
    start = clock()
    for _ in range(rounds):
        for m in messages:
            t = clock()
            classify(m)
            latencies.append(clock() - t)
    total_s = (clock() - start) / 1e9
    latencies.sort()
    n = len(latencies)

    def pct(p: float) -> float:
        return latencies[min(n - 1, int(p * n))] / 1000

    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()} | "
          f"{os.cpu_count()} CPUs | Python {platform.python_version()}")
    print(f"rules: {path} ({rules.version}), loaded in {load_s * 1000:.0f} ms, reloaded in "
          f"{reload_s * 1000:.0f} ms, load peak {load_peak / 2**20:.1f} MiB")
    print(f"messages: {n} ({len(messages)} distinct x {rounds} rounds), one process")
    print(f"first pass (caches filling): {len(messages) / cold_s:,.0f} messages/s")
    print(f"throughput: {n / total_s:,.0f} messages/s")
    print(f"latency: p50 {pct(0.50):.1f} us, p99 {pct(0.99):.1f} us, max {latencies[-1] / 1000:.1f} us")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
