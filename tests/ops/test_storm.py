"""A storm of 1,000 alternating STOP/START from 50 numbers at once: each ends as its last message says.

Twilio delivers one conversation's messages in the order the person sent them (one webhook call
after the other), while different numbers arrive concurrently. So each number's 20 messages are
posted in order by one thread, and the 50 threads run together.
"""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import select

from storage import ConsentEvent, InboundRow
from storage.ledger import verify_chain
from tests.helpers import Api, Twilio

NUMBERS = 50
MESSAGES = 20
SENDER = "+18005550199"


def number(index: int) -> str:
    return f"+1646555{index:04d}"


def bodies(index: int) -> list[str]:
    """Even numbers start with STOP (and end with START), odd ones the other way round."""
    first, second = ("STOP", "START") if index % 2 == 0 else ("START", "STOP")
    return [first if turn % 2 == 0 else second for turn in range(MESSAGES)]


def test_storm_of_alternating_stop_and_start(app: Flask) -> None:
    barrier = threading.Barrier(NUMBERS)
    failures: list[str] = []

    def conversation(index: int) -> None:
        twilio = Twilio(app.test_client())
        barrier.wait()
        for body in bodies(index):
            response = twilio.sms(body, from_=number(index), to=SENDER)
            if response.status_code != 200:
                failures.append(f"{number(index)} {body}: {response.status_code}")

    threads = [threading.Thread(target=conversation, args=(index,)) for index in range(NUMBERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures[:5]

    api = Api(app.test_client())
    database = app.extensions["gateway.database"]
    for index in range(NUMBERS):
        assert api.suppression(number(index), SENDER).get_json()["suppressed"] is (bodies(index)[-1] == "STOP")
    with database.begin() as session:
        for index in range(NUMBERS):
            # The ledger holds every message's change, in the order the person sent them.
            rows = session.execute(
                select(ConsentEvent.action, InboundRow.body)
                .join(InboundRow, InboundRow.id == ConsentEvent.inbound_message_id)
                .where(ConsentEvent.number == number(index))
                .order_by(ConsentEvent.id)
            ).all()
            assert [body for _, body in rows] == bodies(index)
            assert [action for action, _ in rows] == ["opt_out" if b == "STOP" else "opt_in" for b in bodies(index)]
        chain = verify_chain(session)
        assert chain.ok, chain
        assert chain.checked >= NUMBERS * MESSAGES
