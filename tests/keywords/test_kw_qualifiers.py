"""Qualifiers: an SMS object may be followed (or, in languages that name first, preceded) by words
that say which texts ("los mensajes de la rebaja de verano", "セールのメール"); still an opt-out."""

from __future__ import annotations

import pytest

from keywords import Rules
from keywords.evaluate import label

NAMED = [
    ("Dejen de mandarme los mensajes de la rebaja de verano", "opt_out"),
    ("Basta con i messaggi dei saldi", "opt_out"),
    ("Parem de mandar as mensagens das promoções de natal", "opt_out"),
    ("Arrêtez de m'envoyer des SMS sur les soldes", "opt_out"),
    ("stop the texts about the summer sale please", "opt_out"),
    ("双十一的短信别再发了", "opt_out"),
    # A qualifier narrows only an SMS word, names no other channel, topic, keep word or verb.
    ("Quiero dar de baja la suscripción de la caja de frutas", "none"),
    ("Mi mamá no quiere mensajes de voz, mejor escríbanle", "none"),
    ("stop texts about my order", "none"),
    ("how do i stop messages from going to spam", "none"),
    ("basta con i messaggi dei saldi ma continuate a mandare le offerte", "none"),
    # Offers, promotions, coupons are the marketing texts themselves, whatever they are for ...
    ("Basta con le offerte dei telefoni", "opt_out"),
    ("Dejen de mandarme ofertas de celulares", "opt_out"),
    ("I don't want the weekly wine offers anymore", "opt_out"),
    ("I don't want to miss the offers", "none"),  # a verb, not a determiner, after the refusal
    ("Non mi interessano le offerte sui telefoni, solo quelle sui pc", "none"),  # a preference: only those
    ("Non mandatemi più le offerte del black friday", "opt_out"),
    ("No vull rebre més les ofertes de Black Friday", "opt_out"),
    # Promotional words right after an opt-out verb stand for the SMS object ...
    ("quit sending me the black friday promos", "opt_out"),
    ("stop the coupons please", "opt_out"),
    # ... not after another word, nor before the verb.
    ("will the texts stop after the sale?", "none"),
    ("when does the sale end", "none"),
    # One word the file does not know may name the campaign right after an SMS word ...
    ("Đừng gửi tin khuyến mãi Tết cho tôi nữa", "opt_out"),
    ("stop the sms blasts", "opt_out"),
    # ... not a word it knows, nor after a promotional word or a list alone.
    ("I dont want the texts back", "none"),
    ("Fin de la promo quand ?", "none"),
    ("Vymažte ma zo zoznamu čakateľov", "none"),
]


@pytest.mark.parametrize(("text", "want"), NAMED, ids=[n[0][:40] for n in NAMED])
def test_texts_named_by_a_qualifier(rules: Rules, text: str, want: str) -> None:
    assert label(rules.classify(text)) == want


def test_a_qualified_object_still_says_which_keyword_matched(rules: Rules) -> None:
    d = rules.classify("Basta con i messaggi dei saldi")
    assert (d.tier, d.language, d.rule) == ("request", "it", "basta con")


CAMPAIGNS = [
    # After a refusal only request words may come before the SMS word, or a campaign name: a
    # determiner, then words one of which is promotional.
    ("I don't want the weekend promo texts anymore", "opt_out"),
    ("i dont want your black friday texts", "opt_out"),
    ("no longer want the weekly deal texts", "opt_out"),
    ("I don't want to miss the sale texts", "none"),  # a verb before the determiner
    ("Ik wil geen Black Friday berichten meer krijgen", "opt_out"),  # right after the refusal
    ("I don't want to miss sale texts", "none"),  # "to miss": not right after it
    ("I don't want the order texts", "none"),  # no promotional word: an order is another topic
    ("I don't want the sale emails", "none"),  # another channel
]


@pytest.mark.parametrize(("text", "want"), CAMPAIGNS, ids=[n[0][:40] for n in CAMPAIGNS])
def test_a_campaign_name_after_a_refusal(rules: Rules, text: str, want: str) -> None:
    assert label(rules.classify(text)) == want
