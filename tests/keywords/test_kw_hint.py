"""An opt-out keyword followed by one or two unknown words: intent none, action hint, no change."""

from __future__ import annotations

import pytest

from keywords import Rules


@pytest.mark.parametrize(("text", "kind"), [
    pytest.param("STOP xyzzy", "hint", id="unknown-word"),
    pytest.param("cancel netflix", "hint", id="other-service"),
    pytest.param("stop 12", "hint", id="a-number"),
    pytest.param("STOP qwerty asdf", "hint", id="two-unknown-words"),
    pytest.param("STOP qwerty asdf zxcv", "none", id="three-unknown-words-is-conversation"),
    pytest.param("STOP lang po", "opt_out", id="courtesy-of-another-language"),
    pytest.param("stop laughing", "none", id="banter-is-known"),
    pytest.param("stop it", "opt_out", id="request-word"),
    pytest.param("netflix cancel", "none", id="keyword-not-first"),
    pytest.param("START xyzzy", "none", id="not-an-opt-out-keyword"),
    pytest.param("stop stop stop stop stop stop stop stop stop stop stop stop stop stop stop stop stop",
                 "opt_out", id="seventeen-stops"),
    pytest.param("STOPSTOP", "opt_out", id="glued-repeat"),
])
def test_message_shape(rules: Rules, text: str, kind: str) -> None:
    assert rules.classify(text).kind == kind


def test_a_hint_explains_itself_and_gets_the_hint_reply(rules: Rules) -> None:
    d = rules.classify("STOP xyzzy")
    assert (d.intent, d.action, d.rule, d.tier, d.score) == ("none", "hint", "STOP", "shape", 0.0)
    assert rules.reply_for(d, None) == "Acme Outlet: To stop our messages, reply STOP."
    assert rules.reply_for(rules.classify("hello there"), None) is None


def test_a_question_gets_no_hint(rules: Rules) -> None:
    assert rules.classify("Отмена рейса?").action is None
    assert rules.classify("Отмена рейса").action == "hint"


@pytest.mark.parametrize(("text", "kind"), [
    pytest.param("آپ کون ہیں؟ بند کریں", "opt_out", id="urdu-question-mark-splits"),
    pytest.param("علاقه\u200cای ندارم، لغو کنید", "opt_out", id="arabic-comma-splits"),
    pytest.param("Unsubscribe? Never!", "none", id="asked-and-refused"),
    pytest.param("Atsisakyti? Niekada!", "none", id="asked-and-refused-lt"),
    pytest.param("Stop? Yes please", "opt_out", id="asked-and-confirmed"),
])
def test_clause_punctuation_of_every_script(rules: Rules, text: str, kind: str) -> None:
    assert rules.classify(text).kind == kind
