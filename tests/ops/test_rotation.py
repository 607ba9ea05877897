"""Rotating the Twilio auth token: the previous one is honoured only while it is configured."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.helpers import Twilio

OLD = "old-twilio-token"


@pytest.mark.parametrize(
    ("previous", "signed_with", "status"),
    [
        pytest.param(None, "current", 200, id="current-token"),
        pytest.param(None, OLD, 403, id="old-token-after-rotation"),
        pytest.param(OLD, OLD, 200, id="old-token-during-rotation"),
        pytest.param(OLD, "current", 200, id="current-token-during-rotation"),
        pytest.param(OLD, "someone-else", 403, id="unknown-token-during-rotation"),
    ],
)
def test_previous_token_during_rotation(app: Flask, previous: str | None, signed_with: str, status: int) -> None:
    app.config["TWILIO_PREVIOUS_AUTH_TOKEN"] = previous
    token = app.config["TWILIO_AUTH_TOKEN"] if signed_with == "current" else signed_with
    assert Twilio(app.test_client(), token=token).sms("HELP").status_code == status
