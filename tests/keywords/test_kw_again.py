"""Loose re-subscribes ("I want your texts again") and help in request wording only ask or help."""

from __future__ import annotations

import pytest

from keywords import Rules


@pytest.mark.parametrize(("text", "kind"), [
    pytest.param("I want your texts again", "ask", id="again-with-object"),
    pytest.param("quiero recibir mensajes otra vez", "ask", id="es-otra-vez"),
    pytest.param("ich will die SMS wieder haben", "ask", id="de-wieder"),
    pytest.param("хочу снова получать рассылку", "opt_in", id="ru-listed-phrase-stays-opt-in"),
    pytest.param("again", "none", id="again-alone"),
    # A guard right before a re-subscribe keyword asks for nothing, nor with an "again" word.
    pytest.param("nie subskrybuj", "none", id="pl-negated-subscribe"),
    pytest.param("не ме абонирайте", "none", id="bg-negated-subscribe"),
    pytest.param("не ме абонирайте пак", "none", id="bg-negated-subscribe-again"),
    pytest.param("gusto ko mag subscribe", "ask", id="tl-ko-is-my-here-not-vietnamese-not"),
    pytest.param("I was late again", "none", id="again-in-conversation"),
    pytest.param("the texts came again, stop", "opt_out", id="again-beside-an-opt-out"),
    pytest.param("no more texts again", "opt_out", id="no-more-wins"),
    pytest.param("I changed my mind, START", "ask", id="start-beside-a-reason"),
    pytest.param("START, lol", "none", id="start-beside-banter"),
    pytest.param("can you help me", "help", id="help-with-request-words"),
    pytest.param("potrzebuję pomocy", "help", id="inflected-help"),
    pytest.param("Helpful, thanks", "none", id="helpful-is-protected"),
    pytest.param("help me find the store", "none", id="help-with-a-task"),
    pytest.param("I need help with these texts", "help", id="help-with-an-sms-object"),
    pytest.param("who is this and why do you have my number?", "help", id="help-question-begins"),
    pytest.param("Ferma, chi è alla porta?", "none", id="help-question-in-a-later-clause"),
    pytest.param("I need help with my order", "none", id="help-question-about-a-topic"),
    pytest.param("who is this stop", "opt_out", id="help-question-before-an-opt-out"),
    pytest.param("Who is this for?", "none", id="help-words-in-another-question"),
    pytest.param("why are you texting me?", "help", id="why-texting-me"),
    pytest.param("send me the offers again", "ask", id="again-with-a-promotional-word"),
    pytest.param("šaljite mi opet ponude", "ask", id="again-with-one-unknown-verb"),
    pytest.param("Predomislila sam se, šaljite mi opet ponude", "ask", id="again-after-an-unlisted-change-of-mind"),
    pytest.param("Start, I am on my way", "none", id="bare-start-beside-an-unrelated-clause"),
    pytest.param("Strat again", "ask", id="misspelt-start-among-request-words"),
    pytest.param("susbcribe me", "ask", id="misspelt-subscribe-among-request-words"),
    pytest.param("strat the car", "none", id="misspelt-start-in-conversation"),
    pytest.param("please send the code again", "none", id="again-with-a-topic"),
    pytest.param("can you resend the invoice again", "none", id="again-with-two-unknown-words"),
    pytest.param("never send me offers again", "opt_out", id="again-guarded"),
    pytest.param("send me the offers again by email", "none", id="again-on-another-channel"),
])
def test_loose_wording(rules: Rules, text: str, kind: str) -> None:
    assert rules.classify(text).kind == kind


def test_an_again_ask_says_which_word_matched(rules: Rules) -> None:
    d = rules.classify("quiero recibir mensajes otra vez")
    assert (d.intent, d.action, d.tier, d.matched, d.language) == ("opt_in", "ask", "request", "otra vez", "es")


def test_a_help_keyword_beside_an_opt_out_keyword_is_no_help_request(rules: Rules) -> None:
    """English MENU with request words is help; Punjabi "menu ... na bhejo" ("don't send me") is not."""
    assert rules.classify("menu please").kind == "help"
    assert rules.classify("menu koi sms na bhejo").kind != "help"
