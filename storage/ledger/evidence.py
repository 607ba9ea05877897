"""Evidence for an audit: the full consent history of one number, as JSON and as readable text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import crypto, ledger, subscriptions
from storage.consent import identities, suppression_status
from storage.models import ConsentEvent, InboundRow
from storage.types import utcnow


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def history(session: Session, number: str, now: datetime | None = None) -> dict[str, Any]:
    """Every ledger event of `number` (also after erasure), its messages, current state and hash checks."""
    now = now or utcnow()
    keyring = crypto.current()
    subject = keyring.digest(number)
    rows = session.execute(
        select(ConsentEvent, InboundRow)
        .outerjoin(InboundRow, InboundRow.id == ConsentEvent.inbound_message_id)
        .where(ConsentEvent.number.in_(identities(number)))
        .order_by(ConsentEvent.id)
    ).all()
    events = [_event(event, message) for event, message in rows]
    status = suppression_status(session, number, None, now=now)
    head_id, head_hash = ledger.head(session)
    return {
        "number": number,
        "subject": subject,
        "generated_at": now.isoformat(),
        "erased": any(event["action"] == "erase" for event in events),
        "suppressed": status.suppressed,
        "suppressions": [
            {"scope": e.scope, "topic": e.topic, "since": _iso(e.since), "until": _iso(e.until), "source": e.source, "rule": e.rule}
            for e in status.entries
        ],
        "subscriptions": [
            {"scope": s.scope, "topic": s.topic, "status": s.status, "expires_at": _iso(s.expires_at), "since": _iso(s.since)}
            for s in subscriptions.states(session, number, now)
        ],
        "events": events,
        "events_hash_ok": all(event["hash_ok"] for event in events),
        "ledger_head": {"id": head_id, "hash": head_hash},
    }


def _event(event: ConsentEvent, message: InboundRow | None) -> dict[str, Any]:
    recomputed = event.hash is not None and ledger.event_hash(event.prev_hash or "", ledger.chain_fields(event)) == event.hash
    return {
        "id": event.id,
        "at": _iso(event.created_at),
        "action": event.action,
        "changed": event.changed,
        "scope": event.sender_scope,
        "topic": event.topic,
        "until": _iso(event.until),
        "source": event.source,
        "actor": event.actor,
        "rule": event.rule,
        "tier": event.tier,
        "score": event.score,
        "language": event.language,
        "rules_version": event.rules_version,
        "explanation": event.explanation,
        "message": None if message is None else {
            "provider": message.provider,
            "provider_message_id": message.provider_message_id,
            "to": message.to_address,
            "body": message.body,
            "reply": message.reply,
            "received_at": _iso(message.received_at),
        },
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "hash_ok": recomputed,
    }


def as_text(record: dict[str, Any]) -> str:
    """The history as lines a person can read (and print for a file)."""
    lines = [
        f"Consent history of {record['number']} (subject {record['subject'][:16]}...)",
        f"Generated {record['generated_at']}; ledger head {record['ledger_head']['id']} {record['ledger_head']['hash']}",
        f"Now: {'SUPPRESSED' if record['suppressed'] else 'not suppressed'}"
        + (" (erased: only the keyed hash remains)" if record["erased"] else ""),
    ]
    for entry in record["suppressions"]:
        until = f" until {entry['until']}" if entry["until"] else ""
        lines.append(f"  suppressed for {entry['scope']} topic {entry['topic']} since {entry['since']}{until} ({entry['source']})")
    for sub in record["subscriptions"]:
        lines.append(f"  subscription {sub['scope']} topic {sub['topic']}: {sub['status']}")
    lines.append("")
    for event in record["events"]:
        effect = "changed" if event["changed"] else "no change"
        until = f" until {event['until']}" if event["until"] else ""
        who = event["actor"] or event["source"]
        how = f", rule {event['rule']!r}" if event["rule"] else ""
        lines.append(f"#{event['id']} {event['at']} {event['action']} {event['scope']} topic {event['topic']}{until}: {effect}"
                     f" (by {who}{how}) hash {'ok' if event['hash_ok'] else 'MISMATCH'}")
        if event["message"]:
            message = event["message"]
            lines.append(f"    message {message['provider_message_id']} to {message['to']} at {message['received_at']}: {message['body']!r}")
            if message["reply"]:
                lines.append(f"    replied: {message['reply']!r}")
    return "\n".join(lines) + "\n"
