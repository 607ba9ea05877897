"""The baseline for bench/webhook.py: a bare Flask endpoint answering a constant TwiML, nothing else."""

from __future__ import annotations

from flask import Flask, Response

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Acme: you are unsubscribed.</Message></Response>'

app = Flask(__name__)


@app.post("/webhooks/twilio/sms")
def sms() -> Response:
    return Response(TWIML, mimetype="application/xml")


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")
