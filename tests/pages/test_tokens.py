"""Link tokens: short, bound to (number, sender, topic), checked before and after the row is loaded."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from gateway.api import links
from storage import Database
from storage.links import UnsubscribeLink
from tests.pages.conftest import NUMBER, SECRET, SENDER, token_of

TODAY = date(2026, 11, 23)
EXPIRES = TODAY + timedelta(days=30)


def _flip(token: str, index: int) -> str:
    """The token with one character replaced by another valid one."""
    replacement = "A" if token[index] != "A" else "B"
    return token[:index] + replacement + token[index + 1 :]


def test_a_token_is_twelve_url_safe_characters_and_random() -> None:
    tokens = {links.make_token(SECRET, NUMBER, SENDER, "*", EXPIRES) for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(token) == 12 and set(token) <= links._ALPHABET for token in tokens)


def test_the_stateless_check_accepts_exactly_its_number_sender_and_topic() -> None:
    token = links.make_token(SECRET, NUMBER, SENDER, "offers", EXPIRES)
    assert links.verify_token(SECRET, token, NUMBER, SENDER, "offers", TODAY)


@pytest.mark.parametrize(
    ("number", "sender", "topic", "secret"),
    [
        ("+14155550101", SENDER, "offers", SECRET),
        (NUMBER, "+18005550198", "offers", SECRET),
        (NUMBER, SENDER, "news", SECRET),
        (NUMBER, SENDER, "*", SECRET),
        (NUMBER, SENDER, "offers", "another-deployment-secret"),
    ],
    ids=["another-number", "another-sender", "another-topic", "all-topics", "another-secret"],
)
def test_the_stateless_check_refuses_a_token_for_anything_else(number: str, sender: str, topic: str, secret: str) -> None:
    token = links.make_token(SECRET, NUMBER, SENDER, "offers", EXPIRES)
    assert not links.verify_token(secret, token, number, sender, topic, TODAY)


def test_every_single_character_tampering_is_refused() -> None:
    token = links.make_token(SECRET, NUMBER, SENDER, "*", EXPIRES)
    for index in range(len(token)):
        assert not links.verify_token(SECRET, _flip(token, index), NUMBER, SENDER, "*", TODAY), index


@pytest.mark.parametrize(
    ("mangle", "kind"),
    [
        (lambda t: t[:-1], "malformed"),
        (lambda t: t[:6], "malformed"),
        (lambda t: t + "A", "malformed"),
        (lambda t: t[:11] + "=", "malformed"),
        (lambda t: t[:11] + "/", "malformed"),
        (lambda t: "", "malformed"),
    ],
    ids=["truncated-by-one", "half", "one-extra", "padding-char", "slash", "empty"],
)
def test_malformed_tokens_are_refused_before_any_query(mangle, kind: str) -> None:  # type: ignore[no-untyped-def]
    token = links.make_token(SECRET, NUMBER, SENDER, "*", EXPIRES)
    with pytest.raises(links.TokenError) as raised:
        links.parse_token(mangle(token), TODAY)
    assert raised.value.kind == kind


def test_expiry_is_checked_without_the_database() -> None:
    token = links.make_token(SECRET, NUMBER, SENDER, "*", TODAY)
    assert links.verify_token(SECRET, token, NUMBER, SENDER, "*", TODAY)
    assert not links.verify_token(SECRET, token, NUMBER, SENDER, "*", TODAY + timedelta(days=1))
    with pytest.raises(links.TokenError, match="expired"):
        links.parse_token(token, TODAY + timedelta(days=1))


def _resolve(database: Database, token: str, today: date | None = None) -> UnsubscribeLink:
    with database.begin() as session:
        return links.resolve(session, SECRET, token, today)


def test_resolve_loads_the_minted_row(client: FlaskClient, database: Database) -> None:
    token = token_of(client, topic="news")
    link = _resolve(database, token)
    assert (link.number, link.sender_scope, link.topic) == (NUMBER, SENDER, "news")


def test_a_tampered_token_is_unknown_and_a_forged_mac_for_the_same_row_too(client: FlaskClient, database: Database) -> None:
    token = token_of(client)
    for index in (0, 3, 6, 11):
        with pytest.raises(links.TokenError):
            _resolve(database, _flip(token, index))
    link = _resolve(database, token)
    # The same day and nonce, signed for another number: a valid-looking token that is not this row's.
    day, nonce, _ = links.parse_token(token, date.today())
    other = links.make_token(SECRET, "+14155550101", SENDER, "*", links.EPOCH + timedelta(days=day), nonce)
    assert other != token
    with pytest.raises(links.TokenError, match="unknown"):
        _resolve(database, other)
    assert link.number == NUMBER


def test_a_row_edited_to_another_number_no_longer_matches_its_token(client: FlaskClient, database: Database) -> None:
    token = token_of(client)
    with database.begin() as session:
        session.execute(update(UnsubscribeLink).where(UnsubscribeLink.token == token).values(number="+14155550101"))
    with pytest.raises(links.TokenError, match="unknown"):
        _resolve(database, token)


def test_a_revoked_link_is_refused(client: FlaskClient, database: Database) -> None:
    token = token_of(client)
    with database.begin() as session:
        assert links.link_store.revoke_links(session, NUMBER, token) == 1
    with pytest.raises(links.TokenError, match="revoked"):
        _resolve(database, token)


def test_an_expired_row_is_refused(client: FlaskClient, database: Database) -> None:
    token = token_of(client)
    link = _resolve(database, token)
    with pytest.raises(links.TokenError, match="expired"):
        _resolve(database, token, link.expires_on + timedelta(days=1))
