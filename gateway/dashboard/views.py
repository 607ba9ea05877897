"""/dashboard: opt-outs and re-subscribes over time, by language, tier, keyword and reason; fuzzy matches to review."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from gateway.dashboard import auth, charts
from gateway.current import database, rules, rules_holder
from keywords.examples_edit import EditRefused, add_none_example_to_file
from keywords.errors import RulesError
from storage import reports, review
from storage.review import FalsePositiveMark
from storage.types import utcnow

bp = Blueprint(
    "dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
    static_folder="static", static_url_path="/assets",
)

PERIODS = (7, 30, 90, 365)
MAX_ID = 2**63 - 1
"""Ids are 64-bit: a longer one matches no row, and SQLite cannot even bind it."""
SERIES_LABELS = {"opt_out": "Opt-outs", "opt_in": "Re-subscribes", "pause": "Pauses"}
BREAKDOWN_LABELS = {name: SERIES_LABELS[name] for name in reports.BREAKDOWN}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


@bp.app_context_processor
def _forms() -> dict[str, Any]:
    return {"dashboard_form_token": auth.form_token}


def _period() -> int:
    raw = request.args.get("days", "30")
    # Exactly an offered period: str.isdigit also takes '²' (int() refuses it) and '٣٠' (int() reads 30).
    offered = {str(days): days for days in PERIODS}
    if raw not in offered:
        abort(400, f"days must be one of {', '.join(offered)}")
    return offered[raw]


def _safe_next(target: str | None) -> str:
    # Only a path on this site: an open redirect after sign-in would be a phishing aid.
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return url_for("dashboard.overview")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Exchange a staff token for a session cookie."""
    if not current_app.config.get("SECRET_KEY"):
        abort(503, "SECRET_KEY is not configured: staff sessions cannot be signed")
    error: str | None = None
    status, headers = 200, dict[str, str]()
    if request.method == "POST":
        # Throttled before anything else: past the limit even the right token waits (nothing to learn).
        wait = auth.login_wait()
        if wait:
            error, status = f"Too many failed sign-ins: try again in {wait} seconds.", 429
            headers = {"Retry-After": str(wait)}
        else:
            auth.check_form()
            if auth.sign_in(request.form.get("token", "")) is not None:
                return redirect(_safe_next(request.form.get("next")), code=303)
            auth.record_failure()
            error, status = "That token is not a staff token.", 401
    return render_template("dashboard/login.html", error=error, next=request.values.get("next", "")), status, headers


@bp.post("/logout")
@auth.staff_required
def logout(actor: str) -> Any:
    """End the staff session on the server: the cookie, and any copy of it, stops working."""
    auth.sign_out()
    return redirect(url_for("dashboard.login"), code=303)


@bp.get("/")
@auth.staff_required
def overview(actor: str) -> Any:
    """Charts of the period and the latest ledger events."""
    days = _period()
    now = utcnow()
    since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    with database().begin() as db:
        daily = reports.daily(db, since)
        languages = reports.by_language(db, since)
        rules_used = reports.by_rule(db, since)
        reasons = reports.by_reason(db, since)
        latest = reports.latest(db)
    labels = {reason.id: reason.labels.get("en", reason.id) for reason in rules().reasons}
    counts = {entry.day: entry.counts for entry in daily}
    totals = {name: sum(entry.counts[name] for entry in daily) for name in SERIES_LABELS}
    return render_template(
        "dashboard/overview.html",
        actor=actor, days=days, periods=PERIODS, totals=totals, series=SERIES_LABELS, latest=latest,
        timeline=charts.timeline(counts, since.date(), now.date(), SERIES_LABELS, "chart-daily",
                                 f"Consent changes per day, last {days} days"),
        languages=charts.bars(languages, BREAKDOWN_LABELS, "Opt-outs and re-subscribes by language", "chart-language"),
        tiers=charts.bars(rules_used, BREAKDOWN_LABELS, "Opt-outs and re-subscribes by matching tier and keyword",
                          "chart-rule"),
        reasons=charts.bars([(labels.get(name, name), {"reason": n}) for name, n in reasons], {"reason": "People"},
                            "Reasons given on the unsubscribe page", "chart-reason"),
        tables={
            "language": [(name, counts["opt_out"], counts["opt_in"]) for name, counts in languages],
            "rule": [(name, counts["opt_out"], counts["opt_in"]) for name, counts in rules_used],
            "reason": [(labels.get(name, name), n) for name, n in reasons],
        },
    )


@bp.get("/fuzzy")
@auth.staff_required
def fuzzy(actor: str) -> Any:
    """Messages matched only by the fuzzy tier, to confirm or mark as false positives."""
    days = _period()
    since = utcnow() - timedelta(days=days)
    with database().begin() as db:
        matches = reports.fuzzy_matches(db, since)
        marks = review.marks_for(db, [match.message_id for match in matches])
    return render_template("dashboard/fuzzy.html", actor=actor, days=days, periods=PERIODS, matches=matches,
                           marks=marks, keywords_file=rules_holder().path)


@bp.post(f"/fuzzy/<int(max={MAX_ID}):message_id>/false-positive")
@auth.staff_required
def false_positive(actor: str, message_id: int) -> Any:
    """Add the message to keywords.yaml's must-not-match examples; refused edits are recorded with the reason."""
    days = _period()  # before any change: a bad period must not leave a mark and then answer 400
    with database().begin() as db:
        match = reports.fuzzy_match(db, message_id)
    if match is None:
        abort(404, "no fuzzy-tier message with that id")
    holder = rules_holder()
    try:
        edit = add_none_example_to_file(holder.path, match.body)
        accepted, version = True, edit.version
        words = ", ".join(f"'{word}' ({language})" for language, word in edit.protected)
        detail = "added to examples.none" + (f"; protected {words}" if words else "")
    except (EditRefused, RulesError, OSError) as error:
        accepted, version, detail = False, None, str(error)
    with database().begin() as db:
        review.add_mark(db, FalsePositiveMark(
            inbound_message_id=message_id, actor=actor, accepted=accepted, detail=detail, rules_version=version,
        ))
    flash(f"{'Marked' if accepted else 'Not marked'}: “{match.body[:60]}”: {detail}", "ok" if accepted else "error")
    return redirect(url_for("dashboard.fuzzy", days=days), code=303)
