"""Configuration from the environment, with local development secrets kept under instance/."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from gateway.api import tokens as auth
from gateway.errors import ConfigError
from keywords import RulesHolder
from keywords.errors import RulesError

DEV_TWILIO_TOKEN_FILE = "twilio_auth_token"
DEV_API_TOKEN_FILE = "api_token"
DEV_SECRET_KEY_FILE = "secret_key"
DEV_STAFF_TOKEN_FILE = "staff_token"

DEFAULTS: dict[str, Any] = {
    "KEYWORDS_FILE": "keywords.yaml",
    "KEYWORDS_CHECK_INTERVAL": 2.0,
    "PUBLIC_BASE_URL": None,
    # GATEWAY_ENV=development (what `make run` sets) lets a missing PUBLIC_BASE_URL fall back to the
    # request's Host header; anywhere else the gateway refuses to start without one (or TRUSTED_HOSTS).
    "ENV": "production",
    "DEFAULT_REGION": "US",
    # Twilio's inbound form is a few KB even with ten media URLs; anything near this is not Twilio.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "PROXY_FIX_HOPS": 0,
    "TWILIO_AUTH_TOKEN": None,
    # When set, webhooks must carry this AccountSid (AC and 32 hex digits); others get 403.
    "TWILIO_ACCOUNT_SID": None,
    "API_TOKENS": (),
    # Signs unsubscribe links, page forms and the dashboard's session cookie (SECRET_KEY or GATEWAY_SECRET_KEY).
    "SECRET_KEY": None,
    # Bearer tokens that open the compliance dashboard (comma-separated); staff accounts add more.
    "STAFF_TOKENS": (),
}


def _read_secret(instance: Path, name: str) -> str | None:
    path = instance / name
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def ensure_dev_secret(instance: Path, name: str) -> tuple[Path, bool]:
    """Create a random secret file under instance/ once (mode 0600); says whether it was created."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    if path.exists():
        return path, False
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(24) + "\n")
    return path, True


def split_tokens(value: str | None) -> tuple[str, ...]:
    """API_TOKENS is comma-separated; blanks are dropped."""
    return tuple(token.strip() for token in (value or "").split(",") if token.strip())


def load(app: Flask) -> None:
    """Fill app.config from defaults, the environment and the development secrets under instance/."""
    instance = Path(app.instance_path)
    app.config.from_mapping(DEFAULTS)
    app.config["DATABASE_URL"] = f"sqlite:///{instance / 'gateway.db'}"
    env = os.environ
    for key in ("DATABASE_URL", "KEYWORDS_FILE", "PUBLIC_BASE_URL", "DEFAULT_REGION", "TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID",
                "SECRET_KEY"):
        if env.get(key):
            app.config[key] = env[key]
    if env.get("API_TOKENS"):
        app.config["API_TOKENS"] = split_tokens(env["API_TOKENS"])
    if env.get("STAFF_TOKENS"):
        app.config["STAFF_TOKENS"] = split_tokens(env["STAFF_TOKENS"])
    # Anything else can be set as GATEWAY_<NAME>, e.g. GATEWAY_PROXY_FIX_HOPS=1 (values parsed as JSON).
    app.config.from_prefixed_env("GATEWAY")
    if isinstance(app.config.get("TRUSTED_HOSTS"), str):
        # GATEWAY_TRUSTED_HOSTS=sms.example.com,sms2.example.com as well as a JSON list.
        app.config["TRUSTED_HOSTS"] = split_tokens(app.config["TRUSTED_HOSTS"])
    if not app.config["TWILIO_AUTH_TOKEN"]:
        app.config["TWILIO_AUTH_TOKEN"] = _read_secret(instance, DEV_TWILIO_TOKEN_FILE)
    if not app.config["API_TOKENS"]:
        app.config["API_TOKENS"] = split_tokens(_read_secret(instance, DEV_API_TOKEN_FILE))
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _read_secret(instance, DEV_SECRET_KEY_FILE)
    if not app.config["STAFF_TOKENS"]:
        app.config["STAFF_TOKENS"] = split_tokens(_read_secret(instance, DEV_STAFF_TOKEN_FILE))


def check(settings: Mapping[str, Any], serving: bool = False) -> None:
    """Refuse settings the gateway must not start with: ConfigError with a one-line reason.

    `serving`: the process is about to answer HTTP (gunicorn's master), so the URL providers sign
    must be known. Commands (`flask --app wsgi ...`) serve nothing and need no PUBLIC_BASE_URL.
    """
    auth.check_config(settings.get("API_TOKENS") or ())
    base = settings.get("PUBLIC_BASE_URL")
    if base:
        parts = urlsplit(str(base))
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError("PUBLIC_BASE_URL must be an absolute http(s) URL such as https://sms.example.com")
    elif serving and not host_may_decide(settings):
        raise ConfigError("PUBLIC_BASE_URL is not set (the URL providers call, e.g. https://sms.example.com); "
                          "set it, or GATEWAY_TRUSTED_HOSTS, or GATEWAY_ENV=development on a developer's machine")


def host_may_decide(settings: Mapping[str, Any]) -> bool:
    """Whether, without PUBLIC_BASE_URL, the request's Host may stand for the public URL.

    Only on a developer's machine or where Flask refuses any Host outside TRUSTED_HOSTS: elsewhere
    the client's Host header would decide the URL a webhook signature is checked against and the
    host of every minted unsubscribe link.
    """
    return bool(settings.get("TRUSTED_HOSTS")) or settings.get("ENV") == "development"


def public_base_url(settings: Mapping[str, Any], host_url: str) -> str | None:
    """PUBLIC_BASE_URL without its trailing slash, the request's own URL root where the Host may decide, else None."""
    base = settings.get("PUBLIC_BASE_URL")
    if base:
        return str(base).rstrip("/")
    return host_url.rstrip("/") if host_may_decide(settings) else None


def startup_check() -> None:
    """The settings `create_app` would use, checked as a server about to serve (gunicorn's master)."""
    app = Flask("gateway", instance_relative_config=True, instance_path=os.environ.get("INSTANCE_PATH") or None)
    load(app)
    check(app.config, serving=True)
    # The keywords file compiles here, in gunicorn's master, once: the workers forked after it
    # find the compiled rules by content (parse_rules) instead of each compiling them at boot,
    # and a refused file stops the server with its file:line: reasons before a worker starts.
    try:
        RulesHolder(app.config["KEYWORDS_FILE"], check_interval=0.0)
    except RulesError as exc:
        first = exc.problems[0]
        more = f" (and {len(exc.problems) - 1} more: python -m keywords check)" if len(exc.problems) > 1 else ""
        raise ConfigError(f"KEYWORDS_FILE refused: {first[0]}:{first[1]}: {first[2]}{more}") from None
