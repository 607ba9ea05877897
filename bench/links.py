"""Unsubscribe links: what the appended text costs in characters and SMS segments, and how fast links work.

Prints: the cost table per language and base URL; token make/verify per second (no database);
mints per second into SQLite; GET /u/<token> and one-tap POST per second in-process (no network).
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: bench/ is not a package

from gateway import create_app

from gateway.api import links  # noqa: E402
from storage import Database, crypto  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.types import utcnow  # noqa: E402

SECRET = "bench-secret-key"
BASES = ("https://example.org", "https://sms.example-brand.com", "https://go.acme.co")
MESSAGES = {
    "short, GSM-7": "Acme: our summer sale starts today, 20% off all sandals now.",
    "longer, GSM-7": "Acme Outlet: new arrivals in store this week. Show this text at the till for 15% off "
    "any item until Sunday. See you soon!",
    "Russian, UCS-2": "Acme: распродажа началась, скидки до 50% всю неделю",
}


def cost_table() -> None:
    print("appended text (a line break, the label, the link):")
    print(f"  {'base URL':32} {'lang':4} {'chars':>5} {'enc':6} {'segs':>4}")
    for base in BASES:
        for language, label in links.LINK_DEFAULTS["LINK_LABELS"].items():
            token = links.make_token(SECRET, "+14155550100", "+18005550199", "*", utcnow().date())
            appended = f"\n{label}: {base}/u/{token}"
            figures = links.measure_append("", appended)["appended"]
            print(f"  {base:32} {language:4} {figures['chars']:5} {figures['encoding']:6} {figures['segments']:4}")
    print("added to a message (base https://example.org, English label):")
    token = links.make_token(SECRET, "+14155550100", "+18005550199", "*", utcnow().date())
    appended = f"\nUnsubscribe: https://example.org/u/{token}"
    for name, message in MESSAGES.items():
        cost = links.measure_append(message, appended)
        print(f"  {name} ({len(message)} chars): {cost['message']['segments']} -> {cost['with_link']['segments']} segments "
              f"({cost['with_link']['chars']} chars, {cost['with_link']['encoding']})")


def rate(label: str, count: int, work) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for index in range(count):
        work(index)
    elapsed = time.perf_counter() - start
    print(f"  {label:42} {count / elapsed:10,.0f} /s  ({elapsed * 1e6 / count:,.1f} µs each, n={count})")


def main() -> None:
    cost_table()
    print("speed:")
    today = utcnow().date()
    tokens = [links.make_token(SECRET, f"+1415555{i:04d}", "+18005550199", "*", today) for i in range(2000)]
    rate("make_token", 20_000, lambda i: links.make_token(SECRET, "+14155550100", "+18005550199", "*", today))
    rate("verify_token (stateless, no database)", 20_000,
         lambda i: links.verify_token(SECRET, tokens[i % 2000], f"+1415555{i % 2000:04d}", "+18005550199", "*", today))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        database = Database(url)

        def mint(i: int) -> None:
            with database.begin() as session:
                links.mint(session, SECRET, "https://example.org", f"+1415556{i:04d}", "+18005550199")

        rate("mint (new link, SQLite, one transaction each)", 1_000, mint)
        rate("mint again (reuses the live link)", 1_000, mint)
        database.dispose()
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "API_TOKENS": ("bench-token-0123456789",),
                          "KEYWORDS_FILE": str(ROOT / "keywords.yaml"), "ACCESS_LOG": False,
                          # Throwaway keys for the ledger's encrypted columns (storage/crypto.py).
                          "LEDGER_KEYS": crypto.generate_fernet_key(), "NUMBER_HASH_KEY": crypto.generate_hash_key()})
        client = app.test_client()
        page_tokens = []
        for i in range(300):
            answer = client.post("/api/v1/links", json={"number": f"+1415557{i:04d}", "sender": "+18005550199"},
                                 headers={"Authorization": "Bearer bench-token-0123456789"})
            page_tokens.append(answer.json["token"])
        pages = {}

        def show(i: int) -> None:
            pages[i] = client.get(f"/u/{page_tokens[i]}").text

        def tap(i: int) -> None:
            csrf = re.search(r'name="csrf" value="([^"]+)"', pages[i]).group(1)  # type: ignore[union-attr]
            answer = client.post(f"/u/{page_tokens[i]}/unsubscribe", data={"csrf": csrf})
            assert answer.status_code == 303, (answer.status_code, answer.text[:300])

        rate("GET /u/<token> (in-process, SQLite)", 300, show)
        rate("POST one-tap unsubscribe (in-process, SQLite)", 300, tap)
        app.extensions["gateway.database"].dispose()


if __name__ == "__main__":
    main()
