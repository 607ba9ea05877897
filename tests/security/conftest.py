"""The gateway as production runs it (gunicorn, no GATEWAY_ENV, PUBLIC_BASE_URL set), for the attack replays."""

from __future__ import annotations

import http.cookiejar
import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gateway import simulator
from storage.migrate import upgrade
from tests.conftest import _truncate, postgres_url
from tests.ops.servers import ROOT, Gunicorn

TWILIO_TOKEN = "security-twilio-token-0123456789"
STAFF_TOKEN = "security-staff-token-0123456789"
# The token forms people paste: `openssl rand -base64 16`, `openssl rand -hex 16`, token_urlsafe, owner:token.
BASE64_TOKEN = "yga0DznGt3K2onpiWefiAg=="
HEX_TOKEN = "9f86d081884c7d659a2feaa0c55ad015"
URL_TOKEN = "Xk_3-a9QdZ2r1LmN0pTs7vWy"
OWNED_TOKEN = "crm-0123456789abcdef"
API_TOKENS = f"{BASE64_TOKEN},{HEX_TOKEN},{URL_TOKEN},crm:{OWNED_TOKEN}"
SECRET_KEY = "security-secret-key-0123456789abcdef"


@dataclass
class Answer:
    status: int
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


class Production:
    """A running gateway with production settings, and a client with a cookie jar."""

    def __init__(self, server: Gunicorn) -> None:
        self.server = server
        self.base = server.base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def request(self, method: str, path: str, *, data: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> Answer:
        req = urllib.request.Request(self.base + path, data=data, headers=dict(headers or {}), method=method)
        try:
            with self.opener.open(req, timeout=20) as response:
                return Answer(response.status, response.read().decode("utf-8", "replace"), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode("utf-8", "replace"), dict(error.headers))

    def api(self, method: str, path: str, token: str = BASE64_TOKEN, body: Any = None,
            raw: bytes | None = None, headers: Mapping[str, str] | None = None) -> Answer:
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        return self.request(method, path, data=data, headers=all_headers)

    def twilio(self, form: Mapping[str, str] | list[tuple[str, str]], path: str = "/webhooks/twilio/sms",
               signature: str | None = None, headers: Mapping[str, str] | None = None) -> Answer:
        pairs = list(form.items()) if isinstance(form, Mapping) else list(form)
        all_headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": signature or simulator.sign(self.base + path, dict(pairs), TWILIO_TOKEN),
                       **(headers or {})}
        return self.request("POST", path, data=urllib.parse.urlencode(pairs).encode(), headers=all_headers)

    def form(self, path: str, fields: Mapping[str, str]) -> Answer:
        return self.request("POST", path, data=urllib.parse.urlencode(fields).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def csrf(self, path: str) -> str:
        page = self.request("GET", path)
        assert page.status == 200, page
        found = re.search(r'name="csrf" value="([^"]+)"', page.body)
        assert found, page.body
        return found.group(1)

    def staff_sign_in(self) -> None:
        answer = self.form("/dashboard/login", {"token": STAFF_TOKEN, "csrf": self.csrf("/dashboard/login")})
        assert answer.status == 303, answer

    def log(self) -> str:
        return self.server.log()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def production_env(server: Gunicorn, **overrides: str) -> None:
    """What a production deployment sets: no GATEWAY_ENV, PUBLIC_BASE_URL, real-looking tokens."""
    server.env.pop("GATEWAY_ENV", None)
    server.env.update({
        "PUBLIC_BASE_URL": server.base, "API_TOKENS": API_TOKENS, "STAFF_TOKENS": STAFF_TOKEN,
        "SECRET_KEY": SECRET_KEY, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    })
    server.env.update(overrides)


def refused_start(tmp_path: Path, database_url: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    """Start gunicorn with these settings and return how it exited (it must not serve)."""
    server = Gunicorn(tmp_path, database_url, TWILIO_TOKEN)
    production_env(server, **overrides)
    for key, value in list(overrides.items()):
        if value == "":
            server.env.pop(key)
    return subprocess.run(
        [str(Path(sys.prefix) / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=server.env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('security') / 'gateway.db'}"
    else:
        found = postgres_url()
        if not found:
            pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
        url = found
        upgrade(url)
        _truncate(url)  # the shared test database, emptied first
        return url
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def production(backend_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    server = Gunicorn(tmp_path_factory.mktemp("gunicorn"), backend_url, TWILIO_TOKEN)
    production_env(server)
    server.start()
    try:
        yield Production(server)
    finally:
        server.stop()
