"""Compliance operations over the JSON API: staff suppressions, scrub, import, export, history, erasure."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any

from flask import Response, current_app, jsonify, request, stream_with_context

from gateway.api import csv_rows
from gateway.api.common import bp, covered, json_text, parse_brand, parse_number, parse_sender, parse_topic, status_json
from gateway.api.tokens import current_owner, require_token
from gateway.errors import BadRequest
from gateway.current import database, import_reach, reached, spool
from storage import consent, erasure, ledger, lists
from storage.consent import bulk
from storage.ledger import evidence
from keywords.brands import REACHES
from storage.models import ALL_TOPICS, GLOBAL_SCOPE

DEFAULT_BULK_MAX_BYTES = 256 * 1024 * 1024
MAX_REASON = 200


def _bulk_body() -> None:
    """Bulk endpoints take large bodies (GATEWAY_BULK_MAX_CONTENT_LENGTH, 256 MB by default)."""
    request.max_content_length = int(current_app.config.get("BULK_MAX_CONTENT_LENGTH", DEFAULT_BULK_MAX_BYTES))


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object body")
    return body


def _reason(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest("reason: required, a short text saying why")
    if len(raw) > MAX_REASON or not raw.isprintable():
        raise BadRequest(f"reason: at most {MAX_REASON} printable characters")
    return raw.strip()


def _reach(raw: object) -> str | None:
    """A reach staff choose instead of the brand's (number, brand, account); None: the brand's."""
    if raw is None or raw == "":
        return None
    if raw not in REACHES:
        raise BadRequest(f"reach: one of {', '.join(REACHES)}")
    return str(raw)


def _scope(raw: object) -> str:
    """A sender scope from a body or query; '*' (every sender) when none is given."""
    if raw is None or raw == "":
        return GLOBAL_SCOPE
    if not isinstance(raw, str):
        raise BadRequest("sender: expected a string")
    if raw.strip() == GLOBAL_SCOPE:
        return GLOBAL_SCOPE
    return parse_sender(raw) or GLOBAL_SCOPE


def _until(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest("until: an ISO 8601 time with its offset, e.g. 2026-12-24T00:00:00+00:00") from None
    if value.tzinfo is None:
        raise BadRequest("until: give the time zone offset")
    try:
        # Stored in UTC: 9999-12-31T23:59:59-12:00 or 0001-01-01T00:00:00+14:00 fall outside datetime there.
        value.astimezone(timezone.utc)
    except OverflowError:
        raise BadRequest("until: out of range once converted to UTC") from None
    return value


@bp.post("/suppressions")
@require_token
def suppress() -> Any:
    """Staff suppress a number for a sender (or every sender) and topic, optionally until a time.

    It reaches as a STOP to that sender would (its brand's senders, or every sender), unless `reach` says otherwise.
    """
    body = _json_body()
    number = parse_number(json_text(body, "number", required=True) or "")
    scope, topic = _scope(body.get("sender")), parse_topic(body.get("topic")) or ALL_TOPICS
    until, reason, chosen = _until(json_text(body, "until")), _reason(body.get("reason")), _reach(body.get("reach"))
    change = reached(consent.ConsentChange(
        number=number, scopes=(scope,), action="pause" if until else "opt_out", topic=topic, until=until,
        source="staff", actor=current_owner(), explanation={"reason": reason},
    ), chosen)
    with database().begin() as session:
        events = consent.apply_change(session, change)
        status = consent.suppression_status(session, number, None if scope == GLOBAL_SCOPE else scope, None)
    changed = any(event.changed for event in events)
    return jsonify(event_id=events[0].id, event_ids=[event.id for event in events], changed=changed,
                   scopes=list(change.scopes), reach=change.explanation["reach"], **status_json(status)), 201 if changed else 200


@bp.delete("/suppressions/<path:number>")
@require_token
def unsuppress(number: str) -> Any:
    """Staff lift a number's suppressions for a sender (and a STOPALL) and topic; `reason` is required."""
    e164 = parse_number(number)
    scope = _scope(request.args.get("sender"))
    topic = parse_topic(request.args.get("topic")) or ALL_TOPICS
    reason, chosen = _reason(request.args.get("reason")), _reach(request.args.get("reach"))
    change = reached(consent.ConsentChange(
        number=e164, scopes=(scope,), action="opt_in", topic=topic, source="staff", actor=current_owner(),
        explanation={"reason": reason},
    ), chosen)
    with database().begin() as session:
        events = consent.apply_change(session, change)
        status = consent.suppression_status(session, e164, None if scope == GLOBAL_SCOPE else scope, None)
    return jsonify(event_ids=[event.id for event in events], lifted=sum(event.changed for event in events), **status_json(status))


def _upload() -> IO[bytes]:
    """The CSV file of a multipart upload (field `file`), or the raw body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise BadRequest("multipart upload without a `file` field")
        return upload.stream
    return request.stream


@bp.post("/scrub")
@require_token
def scrub() -> Any:
    """Split a list of numbers into allowed, suppressed and invalid for a sender and topic."""
    _bulk_body()
    region = current_app.config["DEFAULT_REGION"]
    # The query's sender and topic are checked even where a JSON body's own take their place.
    scope, topic = parse_sender(request.args.get("sender")), parse_topic(request.args.get("topic"))
    if request.mimetype == "application/json":
        body = _json_body()
        values = body.get("numbers")
        if not isinstance(values, list):
            raise BadRequest("numbers: expected a JSON array of strings")
        if "sender" in body:
            scope = parse_sender(json_text(body, "sender"))
        if "topic" in body:
            topic = parse_topic(body["topic"])
        numbers, invalid = csv_rows.number_list(values, region)
    else:
        try:
            numbers, invalid = csv_rows.number_csv(_upload(), region)
        except (UnicodeDecodeError, csv.Error) as error:
            raise BadRequest(f"not a UTF-8 CSV file: {error}") from None
    brand = parse_brand(request.args.get("brand"), scope)
    # A brand: suppressed where any of its senders is (the sender that texts next may be that one).
    senders: tuple[str | None, ...] = brand[1] if brand else (scope,)
    suppressed: set[str] = set()
    for sender in senders:
        # A read of its own each: the list goes to a temporary table that lasts one transaction.
        with database().read() as connection:
            suppressed |= lists.scrub(connection, numbers, sender, topic)
    local = spool()
    if local is not None and local.spool.has_pending():
        # Fail closed: opt-outs still waiting in this machine's spool count as suppressions.
        suppressed |= {number for number, scopes in local.opted_out(numbers).items()
                       if any(covered(scopes, sender) for sender in senders)}
    seen: set[str] = set()
    allowed = [n for n in numbers if n not in suppressed and not (n in seen or seen.add(n))]  # type: ignore[func-returns-value]
    return jsonify(
        sender=scope, brand=brand[0] if brand else None, topic=topic,
        counts={"allowed": len(allowed), "suppressed": len(suppressed), "invalid": len(invalid)},
        allowed=allowed, suppressed=sorted(suppressed), invalid=[error.as_dict() for error in invalid],
    )


@bp.post("/imports")
@require_token
def import_csv() -> Any:
    """Import a CSV suppression list (ours, another system's, a provider's opt-out export): all or nothing.

    Each row reaches as a STOP to its sender would (its brand's senders), unless `reach` says otherwise.
    """
    _bulk_body()
    region = current_app.config["DEFAULT_REGION"]
    sender = request.args.get("sender")
    default_scope = _scope(sender) if sender else None
    topic = parse_topic(request.args.get("topic")) or ALL_TOPICS
    source = request.args.get("source") or "import"
    if source not in {"import", "provider_export"}:
        raise BadRequest("source: import or provider_export")
    note, chosen = request.args.get("note"), _reach(request.args.get("reach"))
    if note is not None and (len(note) > 64 or not note.isprintable()):
        raise BadRequest("note: at most 64 printable characters")
    try:
        rows = csv_rows.import_rows(_upload(), region, default_scope, topic)
    except csv_rows.RowsRejected as rejected:
        return jsonify(error=str(rejected), bad_rows=rejected.total, errors=[e.as_dict() for e in rejected.errors]), 400
    if not rows:
        raise BadRequest("the file has no rows")
    with database().begin() as session:
        covers, explanation = import_reach(chosen)
        result = bulk.import_suppressions(session, rows, actor=current_owner(), source=source, note=note,
                                          reach=covers, explanation=explanation)
    return jsonify(
        batch=result.batch, rows=result.rows, added=result.added, already=result.already, repeated=result.repeated,
        events=result.events, made_permanent=result.events - result.added - result.already,
        first_event_id=result.first_event_id, last_event_id=result.last_event_id,
    ), 201


@bp.get("/export/suppressions.csv")
@require_token
def export_csv() -> Any:
    """Stream the active suppression list as CSV (number, sender, topic, until, source, since)."""
    sender = request.args.get("sender")
    scope = parse_sender(sender) if sender else None
    topic = parse_topic(request.args.get("topic"))
    db = database()

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        # Spreadsheet-safe cells that import back unchanged (gateway/csv_rows.py says how).
        writer = csv_rows.export_writer(buffer)
        writer.writerow(csv_rows.EXPORT_COLUMNS)
        # A read-only transaction: a slow download holds no SQLite write lock.
        with db.read() as connection:
            for count, row in enumerate(lists.export(connection, scope, topic), 1):
                writer.writerow(csv_rows.export_row(*row))
                if count % 1000 == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="suppressions.csv"'})


@bp.get("/history/<path:number>")
@require_token
def history(number: str) -> Any:
    """The full consent history of a number for an audit: JSON, or text with ?format=text."""
    with database().begin() as session:
        record = evidence.history(session, parse_number(number))
    if request.args.get("format") == "text":
        return Response(evidence.as_text(record), mimetype="text/plain")
    return jsonify(record)


@bp.post("/erasures")
@require_token
def erase() -> Any:
    """Erase a person's data on request: messages and number gone, number still blocked by its keyed hash."""
    body = _json_body()
    number = parse_number(json_text(body, "number", required=True) or "")
    reason = _reason(body.get("reason"))
    # This machine's spool too: its messages from the number go with the rest.
    local = spool()
    report = erasure.erase_number(database(), number, actor=current_owner(), reason=reason,
                                  spool=local.spool if local is not None else None)
    return jsonify(subject=report.subject, event_id=report.event_id, rows=report.rows, suppressed=True)


@bp.get("/ledger/verify")
@require_token
def verify() -> Any:
    """Recompute the ledger's hash chain; `ok` false names the first broken event."""
    with database().begin() as session:
        result = ledger.verify_chain(session)
    return jsonify(ok=result.ok, checked=result.checked, first_broken_id=result.first_broken_id, reason=result.reason,
                   head_id=result.head_id, head_hash=result.head_hash)
