"""API_TOKENS: a whole bare token or `owner:token`, never split inside a generated token."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from gateway import create_app
from gateway.api.tokens import parse_entry, parse_tokens
from gateway.errors import ConfigError
from storage.models import ConsentEvent
from tests.conftest import KEYWORDS_FILE, LEDGER_KEY, NUMBER_HASH_KEY, TWILIO_TOKEN

SENDER = "+18005550199"
# What `openssl rand -hex 16`, `openssl rand -base64 16` and Python's secrets.token_urlsafe print.
HEX = "9f86d081884c7d659a2feaa0c55ad015"
BASE64_PADDED = "yga0DznGt3K2onpiWefiAg=="
BASE64_ONE_PAD = "yga0DznGt3K2onpiWefiAgQ="
BASE64_UNPADDED = "yga0DznGt3K2onpiWefiAg"
BASE64_SLASH_PLUS = "k+/0DznGt3K2onpiWefiAg=="
BASE64URL = "Xk_3-a9QdZ2r1LmN0pTs7vWy"


def bare(token: str) -> str:
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:8]


@pytest.mark.parametrize(
    "entry, owner, token",
    [
        (HEX, bare(HEX), HEX),
        (BASE64_PADDED, bare(BASE64_PADDED), BASE64_PADDED),
        (BASE64_ONE_PAD, bare(BASE64_ONE_PAD), BASE64_ONE_PAD),
        (BASE64_UNPADDED, bare(BASE64_UNPADDED), BASE64_UNPADDED),
        (BASE64_SLASH_PLUS, bare(BASE64_SLASH_PLUS), BASE64_SLASH_PLUS),
        (BASE64URL, bare(BASE64URL), BASE64URL),
        (f"crm:{BASE64_PADDED}", "crm", BASE64_PADDED),
        (f"billing.team@acme:{HEX}", "billing.team@acme", HEX),
        (f"  crm:{BASE64URL} ", "crm", BASE64URL),
    ],
    ids=["hex", "base64-padded", "base64-one-pad", "base64-unpadded", "base64-plus-slash", "base64url",
         "owner-base64", "owner-email-like", "owner-spaces-around"],
)
def test_entries_parse_as_a_whole_token_or_owner_colon_token(entry: str, owner: str, token: str) -> None:
    parsed = parse_entry(entry, 1)
    assert (parsed.owner, parsed.secret) == (owner, token.encode())
    assert token not in repr(parsed)


@pytest.mark.parametrize(
    "entry, reason",
    [
        (f"alice={HEX}", "write owner:token"),
        ("alice=alice-secret-0123456789", "write owner:token"),
        ("short-token", "at least 16"),
        ("alice:short", "at least 16"),
        ("abc=def0123456789xyz", "trailing base64 padding"),
        ("yga0DznGt3K2onpiWefiA===", "trailing base64 padding"),
        ("yga0DznGt3K2onpiWefi=", "trailing base64 padding"),
        ("a token with spaces 0123", "printable ASCII"),
        ("t\u00f6ken-0123456789abcdef", "printable ASCII"),
        (f":{HEX}", "owner before ':'"),
        (f"bad owner:{HEX}", "owner before ':'"),
    ],
    ids=["old-owner-equals-hex", "old-owner-equals", "short", "short-with-owner", "equals-inside",
         "three-pads", "pad-misaligned", "spaces", "non-ascii", "empty-owner", "owner-with-space"],
)
def test_bad_entries_are_refused_with_a_one_line_reason(entry: str, reason: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_entry(entry, 3)
    message = str(refused.value)
    assert message.startswith("API_TOKENS entry 3:") and reason in message
    assert "\n" not in message
    secret = entry.partition(":")[2] or entry.partition("=")[2] or entry
    assert secret.strip() not in message, "the reason must not repeat the token"


def test_the_same_token_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="entry 2: the same token is listed twice"):
        parse_tokens((f"crm:{HEX}", f"billing:{HEX}"))


def _app(database_url: str, tmp_path: Path, tokens: tuple[str, ...]) -> Flask:
    return create_app({
        "TESTING": True, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "API_TOKENS": tokens,
        "LEDGER_KEYS": LEDGER_KEY, "NUMBER_HASH_KEY": NUMBER_HASH_KEY, "KEYWORDS_FILE": str(KEYWORDS_FILE),
        "SPOOL_PATH": str(tmp_path / "spool.db"),
    })


def test_create_app_refuses_an_old_owner_equals_entry(database_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="write owner:token"):
        _app(database_url, tmp_path, (f"alice={HEX}",))


@pytest.mark.parametrize("token", [BASE64_PADDED, BASE64_ONE_PAD, HEX, BASE64URL], ids=["padded", "one-pad", "hex", "url"])
def test_a_padded_base64_token_is_the_token_and_its_padding_is_not(database_url: str, tmp_path: Path, token: str) -> None:
    """`openssl rand -base64 16` used to be read as owner `yga0…` with token `=`: `Bearer =` had full access."""
    app = _app(database_url, tmp_path, (token,))
    client = app.test_client()
    try:
        for presented in ("=", "==", token.rstrip("="), token + "x"):
            if presented == token:
                continue
            answer = client.post("/api/v1/suppressions", json={"number": "+14155550100", "sender": SENDER, "reason": "called us"},
                                 headers={"Authorization": f"Bearer {presented}"})
            assert answer.status_code == 401, presented
        answer = client.post("/api/v1/suppressions", json={"number": "+14155550100", "sender": SENDER, "reason": "called us"},
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 201
        with app.extensions["gateway.database"].begin() as session:
            actors = list(session.scalars(select(ConsentEvent.actor)))
        assert actors == [bare(token)]
        # Not the token, nor any piece of it eight characters long.
        assert not any(token[i:i + 8] in actors[0] for i in range(len(token) - 7))
    finally:
        app.extensions["gateway.database"].dispose()
