"""`flask --app wsgi simulate BODY`: sign an inbound SMS as Twilio does and post it to a running gateway."""

from __future__ import annotations

import os

import click
from flask import current_app

from gateway import simulator


@click.command("simulate")
@click.argument("body")
@click.option("--from", "from_", default="+14155550100", show_default=True, help="The person's number.")
@click.option("--to", default="+18005550199", show_default=True, help="Your sending number or short code.")
@click.option("--service", default=None, help="A Messaging Service SID (MG...).")
@click.option("--sid", default=None, help="MessageSid to use (repeat one to simulate a retry).")
@click.option("--url", default=None, help="Gateway base URL [default: http://127.0.0.1:$PORT].")
def simulate(body: str, from_: str, to: str, service: str | None, sid: str | None, url: str | None) -> None:
    """Sign an inbound SMS exactly as Twilio does, post it to a running gateway, print the TwiML answer."""
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    if not token:
        raise click.ClickException("no TWILIO_AUTH_TOKEN and no development token; run `make run` first")
    base = (url or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}").rstrip("/")
    path = "/webhooks/twilio/sms"
    public = current_app.config["PUBLIC_BASE_URL"]
    form = simulator.inbound_form(body, from_, to, message_sid=sid, messaging_service_sid=service)
    try:
        status, answer = simulator.post(base + path, form, token, sign_url=(public.rstrip("/") + path) if public else None)
    except OSError as error:  # URLError included: nothing listens there, or it did not answer in time
        reason = getattr(error, "reason", error)
        raise click.ClickException(f"no gateway answered at {base} ({reason}); start one with `make run`") from None
    click.echo(f"HTTP {status} (MessageSid {form['MessageSid']})")
    click.echo(answer)
    if status >= 400:
        raise SystemExit(1)
