"""A second baseline for bench/webhook.py: the gateway's request work without storage.

It verifies the Twilio signature, decodes and normalises the form, classifies the body and answers
the reply's TwiML with the gateway's own functions, but stores, logs and counts nothing. Between
the bare endpoint and the gateway it shows what the request work alone costs, before any write.
"""

from __future__ import annotations

import os

from flask import Flask, Response, request

from gateway.providers.twilio import decode_inbound, twiml, verify
from keywords import load_rules

app = Flask(__name__)
app.config.update(TWILIO_AUTH_TOKEN=os.environ["TWILIO_AUTH_TOKEN"], PUBLIC_BASE_URL=None, ENV="development")
rules = load_rules(os.environ["KEYWORDS_FILE"])


@app.post("/webhooks/twilio/sms")
def sms() -> Response:
    if (refused := verify(request, app.config)) is not None:
        return Response(refused.reason + "\n", status=refused.status, mimetype="text/plain")
    message = decode_inbound(request.form, "US")
    decision = rules.classify(message.body)
    return twiml(rules.reply_for(decision, message.sender_scope) if message.from_.is_phone else None)


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")
