"""Structured JSON logs with phone numbers masked; message bodies are never logged.

Every record becomes one JSON object a line: time, level, logger, message, and the fields given as
`extra={"fields": {...}}`. The access line never holds the raw path or query: each route argument
and query value the API would read as a phone number, in any format, is masked from its E.164 form
(+1415*****00), and other route arguments (link tokens) are replaced by their names. As a second
net, any unbroken run of seven or more digits is masked in the message, the fields and tracebacks
alike. GATEWAY_LOG_FORMAT=text gives plain lines.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from flask import Flask, Response, current_app, g, request

from gateway.addresses import parse_address
from gateway.errors import InvalidAddress

PHONE_LIKE = re.compile(r"(?<![A-Za-z0-9])(\+?)(\d{7,15})(?![A-Za-z0-9])")
"""Digit runs long enough to be a phone number; SIDs are excluded by the neighbouring letters."""
KEEP_HEAD = 4
KEEP_TAIL = 2
HANDLER_NAME = "gateway-json"

log = logging.getLogger("gateway.request")


def mask_numbers(text: str) -> str:
    """Mask every phone-like digit run: +14155550100 -> +1415*****00."""

    def _mask(match: re.Match[str]) -> str:
        plus, digits = match.group(1), match.group(2)
        hidden = len(digits) - KEEP_HEAD - KEEP_TAIL
        return plus + digits[:KEEP_HEAD] + "*" * hidden + digits[-KEEP_TAIL:]

    return PHONE_LIKE.sub(_mask, text)


def mask_number(number: str | None) -> str | None:
    """One number masked (short codes and sender ids are not personal and stay as they are)."""
    return None if number is None else mask_numbers(number)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_numbers(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(item) for item in value]
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per record, numbers masked."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": mask_numbers(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(_masked(fields))
        if record.exc_info:
            entry["exception"] = mask_numbers(self.formatException(record.exc_info))
        return _ENCODER.encode(entry)


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)
"""One encoder for every line (json.dumps with options builds a new one per call)."""


class MaskingTextFormatter(logging.Formatter):
    """Plain text lines for people at a terminal, numbers masked all the same."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_numbers(super().format(record))


def configure(fmt: str = "json", level: int = logging.INFO) -> None:
    """Put our one handler on the root logger (replacing a previous one of ours, never others')."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    if fmt == "text":
        handler.setFormatter(MaskingTextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def _start() -> None:
    g.log_started = time.perf_counter()


def outcome(event: str, message: str, fields: dict[str, Any]) -> None:
    """A view's outcome, logged on the request's one access line (or alone when access lines are off).

    The webhook answers hundreds of requests a second: one line each, not an access line and an
    outcome line, halves what it logs and what logging costs.
    """
    if current_app.config.get("ACCESS_LOG", True):
        g.log_outcome = (event, message, fields)
    else:
        log.info(message, extra={"fields": {"event": event, **fields}})


SAFE_PATH_ARGS = frozenset({"provider"})
"""Route arguments that never hold personal data or a secret, logged as they are."""
PLAIN_QUERY_VALUE = re.compile(r"^(?:[A-Za-z_.-]{0,32}|\d{1,4})$")
"""Query values logged as they are: a word without digits, or a small count such as days=7."""
DIGIT_RUN = re.compile(r"[+(]?\d[\d\s().\-/]{3,}\d")
"""On a path no route matched: any run of five or more digits, separators allowed, is hidden."""
RULE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
"""A route argument in a Werkzeug rule: <name> or <converter:name>."""


def _shown(name: str, value: object, plain_ok: bool = False) -> str:
    """A route argument or query value as the access log may show it.

    What the API would read as a phone number, in whatever format it came (dashes, dots, brackets,
    00, tel:, percent-encoded), is masked from its E.164 form; anything else that could be personal
    or a secret (a link token, free text) is replaced by its name; `plain_ok` keeps a query's
    plain words and small counts.
    """
    if isinstance(value, int) or name in SAFE_PATH_ARGS:
        return str(value)
    text = str(value)
    try:
        address = parse_address(text, str(current_app.config.get("DEFAULT_REGION") or "US"))
    except InvalidAddress:
        address = None
    if address is not None and address.kind == "e164":
        return mask_numbers(address.value)
    if address is not None and address.kind == "short_code":
        return address.value
    return text if plain_ok and PLAIN_QUERY_VALUE.match(text) else f"<{name}>"


def shown_path() -> str:
    """The request path with its route arguments masked (never the raw path, which may hold a number)."""
    rule = request.url_rule
    if rule is None:
        return DIGIT_RUN.sub("<digits>", request.path)
    args = request.view_args or {}
    return RULE_ARGUMENT.sub(lambda match: _shown(match.group(1), args.get(match.group(1), "")), rule.rule)


def _request_line(response: Response) -> Response:
    # The access log: gunicorn's own would print the API path, which holds a phone number, unmasked.
    started = g.pop("log_started", None)
    path = shown_path()
    fields: dict[str, Any] = {
        "event": "request",
        "method": request.method,
        "path": path,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        "remote": request.remote_addr,
    }
    if request.args:
        fields["query"] = {key: _shown(key, value, plain_ok=True) for key, value in request.args.items()}
    message = f"{request.method} {path} {response.status_code}"
    noted = g.pop("log_outcome", None)
    if noted is not None:
        event, said, extra = noted
        fields.update(extra, event=event)
        message = f"{message}: {said}"
    log.info(message, extra={"fields": fields})
    return response


def init_app(app: Flask) -> None:
    """JSON logs (GATEWAY_LOG_FORMAT=text for plain lines) and one access line per request."""
    configure(str(app.config.get("LOG_FORMAT") or "json"))
    if app.config.get("ACCESS_LOG", True):
        app.before_request(_start)
        app.after_request(_request_line)
