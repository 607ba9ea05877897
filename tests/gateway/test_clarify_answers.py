"""What counts as an answer to the scope question, as a table; and the two settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from gateway.inbound import clarify
from keywords import Rules, load_rules
from tests.conftest import KEYWORDS_FILE

OFFERED = ("offers", "news", "events")


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(KEYWORDS_FILE)


# text, the offered topics it names (None: not an answer, nothing changes)
CASES = [
    ("1", ["offers"]),
    ("2.", ["news"]),
    ("#3", ["events"]),
    ("1 3", ["offers", "events"]),
    ("1,2", ["offers", "news"]),
    ("3, 1", ["offers", "events"]),
    ("1 1", ["offers"]),
    ("1-3", ["offers", "news", "events"]),
    ("1 – 2", ["offers", "news"]),
    ("offers", ["offers"]),
    ("NEWS!", ["news"]),
    ("news and events", ["news", "events"]),
    ("Offers & News", ["offers", "news"]),
    ("1 news", ["offers", "news"]),
    ("only 2 please", ["news"]),
    ("2 thank you", ["news"]),
    ("solo 2 y 3", ["news", "events"]),
    ("nur 1 und 3", ["offers", "events"]),
    ("только 2", ["news"]),
    ("２", ["news"]),
    ("١", ["offers"]),
    ("1和3", ["offers", "events"]),
    ("2 と 3", ["news", "events"]),
    ("", None),
    ("please", None),
    ("4", None),
    ("0", None),
    ("13", None),
    ("no", None),
    ("stop 2", None),
    ("sports", None),
    ("newsletter", None),
    ("offer", None),
    ("2 but not on sundays", None),
    ("call me at 2", None),
    ("1-30", None),
]


@pytest.mark.parametrize(("text", "named"), CASES, ids=[repr(text) for text, _ in CASES])
def test_what_an_answer_names(rules: Rules, text: str, named: list[str] | None) -> None:
    found = clarify.read_answer(text, OFFERED, clarify.courtesy(rules))
    assert (None if found is None else clarify.resolve(found, OFFERED)) == named


def test_numbers_count_in_the_offered_list_not_the_configured_one() -> None:
    # "news" was stopped before the STOP, so the question offered "1 offers, 2 events".
    assert clarify.resolve(clarify.read_answer("2", OFFERED) or [], ("offers", "events")) == ["events"]
    assert clarify.resolve(clarify.read_answer("news", OFFERED) or [], ("offers", "events")) is None


def test_a_longer_topic_name_wins() -> None:
    topics = ("offers", "special offers")
    assert clarify.resolve(clarify.read_answer("special offers", topics) or [], topics) == ["special offers"]
    assert clarify.resolve(clarify.read_answer("Special-Offers and offers", topics) or [], topics) == list(topics)


def test_the_numbered_list() -> None:
    assert clarify.numbered(OFFERED) == "1 offers, 2 news, 3 events"


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, rules: Rules) -> None:
    app = Flask(__name__)
    app.config["TOPICS"] = {"default": list(OFFERED)}
    clarify.init_app(app)
    assert clarify.from_config(app.config, rules) is None, "off by default"
    monkeypatch.setenv("GATEWAY_CLARIFY_SCOPE", "true")
    monkeypatch.setenv("GATEWAY_CLARIFY_HOURS", "48")
    app.config.from_prefixed_env("GATEWAY")
    clarify.init_app(app)
    clarifier = clarify.from_config(app.config, rules)
    assert clarifier is not None and clarifier.window == timedelta(hours=48)
    assert clarifier.topics_for("+18005550100") == list(OFFERED)


@pytest.mark.parametrize(("key", "value"), [
    ("CLARIFY_SCOPE", "yes"),
    ("CLARIFY_SCOPE", 1),
    ("CLARIFY_HOURS", 0),
    ("CLARIFY_HOURS", "24"),
    ("CLARIFY_HOURS", 24 * 31),
])
def test_a_setting_that_is_not_understood_stops_the_start(key: str, value: object) -> None:
    app = Flask(__name__)
    app.config[key] = value
    with pytest.raises(ValueError, match=f"GATEWAY_{key}"):
        clarify.init_app(app)
