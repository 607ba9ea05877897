"""GET /u/<token>: the recipient's unsubscribe page. GETs never change anything; every change is a CSRF-checked POST."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from gateway.api import links
from gateway.pages import choices, csrf, i18n
from gateway.current import database, rules
from storage.links import UnsubscribeLink
from storage.types import utcnow

bp = Blueprint(
    "pages", __name__, url_prefix="/u", template_folder="templates",
    static_folder="static", static_url_path="/assets",
)

DONE = ("unsubscribed", "resubscribed", "saved", "thanks", "closed")
COMMENT_MAX = 1000
# Link scanners and previews fetch these URLs too: nothing may be cached, indexed, or leak the token.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
ERROR_STATUS = {"malformed": 400, "unknown": 404, "expired": 404, "revoked": 404, "form": 400, "choice": 400,
                "unavailable": 503}


class PageError(Exception):
    """A request the page answers with a clear error page instead of a change."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind)
        self.kind, self.detail = kind, detail


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


@bp.errorhandler(PageError)
def _page_error(error: PageError) -> Any:
    texts = i18n.Texts(i18n.pick())
    message = texts(f"error_{error.kind}", detail=error.detail) if error.kind == "choice" else texts(f"error_{error.kind}")
    return render_template("pages/error.html", t=texts, message=message, link=None), ERROR_STATUS[error.kind]


def _secret() -> str:
    try:
        return links.secret_key()
    except links.NoSecret:
        raise PageError("unavailable") from None


def _grace() -> timedelta:
    return timedelta(minutes=float(current_app.config["RESUBSCRIBE_GRACE_MINUTES"]))


def _load(session: Any, token: str) -> UnsubscribeLink:
    try:
        return links.resolve(session, _secret(), token)
    except links.TokenError as error:
        raise PageError(error.kind) from None


def _switch(language: str) -> str:
    """This page's URL in another language, keeping what else the query says."""
    view_args = request.view_args or {}
    # The keys come from the visitor: never let one reach url_for's own arguments (_external,
    # _anchor, _scheme...) or override the view's (?token=), which would raise.
    query: dict[str, Any] = {key: value for key, value in request.args.items()
                             if not key.startswith("_") and key not in view_args}
    return url_for(str(request.endpoint), **view_args, **{**query, "lang": language})


def _context(session: Any, link: UnsubscribeLink) -> dict[str, Any]:
    sender = rules().sender(link.sender_scope)
    texts = i18n.Texts(i18n.pick(link.language, sender.language))
    state = choices.state(session, link, utcnow(), _grace())
    return {
        "t": texts,
        "link": link,
        "brand": sender.brand,
        "last4": link.number[-4:],
        "state": state,
        "stopped_labels": ", ".join(texts.topic(topic) for topic in sorted(state.topics_stopped)),
        "topics": links.topics_for(link.sender_scope),
        "languages": [(code, texts.name_of(code), _switch(code)) for code in i18n.languages()],
        "csrf": csrf.issue(_secret(), "link", link.token),
        "reasons": [(reason.id, reason.labels.get(texts.language) or reason.labels.get("en") or reason.id)
                    for reason in rules().reasons],
        "pause_days": choices.PAUSE_DAYS,
        "frequencies": choices.FREQUENCIES,
    }


@bp.get("/<token>")
def show(token: str) -> Any:
    """The choices: one-tap unsubscribe, topics to keep, a pause, a lower frequency."""
    with database().begin() as session:
        link = _load(session, token)
        context = _context(session, link)
    return render_template("pages/choices.html", **context)


@bp.get("/<token>/done")
def done(token: str) -> Any:
    """The confirmation: names the brand, offers to re-subscribe within the grace, asks why (optional)."""
    did = request.args.get("did", "")
    with database().begin() as session:
        link = _load(session, token)
        context = _context(session, link)
    state = context["state"]
    # The query only says what was just done; never claim what the ledger no longer shows (an old tab, a crafted URL).
    if did not in DONE or (did == "unsubscribed" and not state.unsubscribed) or (
        did == "resubscribed" and state.unsubscribed
    ):
        did = "saved"
    return render_template("pages/done.html", did=did, **context)


def _checked_post(session: Any, token: str) -> tuple[UnsubscribeLink, str]:
    link = _load(session, token)
    if not csrf.valid(_secret(), "link", link.token, request.form.get(csrf.FIELD)):
        raise PageError("form")
    sender = rules().sender(link.sender_scope)
    return link, i18n.pick(link.language, sender.language)


def _to_done(token: str, did: str, language: str) -> Response:
    return redirect(url_for("pages.done", token=token, did=did, lang=language), code=303)


@bp.post("/<token>/unsubscribe")
def unsubscribe(token: str) -> Any:
    """One tap: stop every text from this sender."""
    with database().begin() as session:
        link, language = _checked_post(session, token)
        choices.unsubscribe(session, link, language)
    return _to_done(token, "unsubscribed", language)


@bp.post("/<token>/resubscribe")
def resubscribe(token: str) -> Any:
    """Undo a change made through this link, within the grace period."""
    with database().begin() as session:
        link, language = _checked_post(session, token)
        made = choices.resubscribe(session, link, language, utcnow(), _grace())
    return _to_done(token, "resubscribed" if made else "closed", language)


def _int_choice(name: str, allowed: tuple[int, ...]) -> int:
    raw = request.form.get(name, "0") or "0"
    # Only a value the form offers, spelled as the form spells it: str.isdigit also takes '²' (int() refuses it)
    # and '٣٠' (int() reads 30).
    offered = {str(value): value for value in (0, *allowed)}
    if raw not in offered:
        raise PageError("choice", f"{name}={raw[:20]}")
    return offered[raw]


@bp.post("/<token>/preferences")
def preferences(token: str) -> Any:
    """Topics to keep, a pause, a lower frequency."""
    with database().begin() as session:
        link, language = _checked_post(session, token)
        offered = tuple(links.topics_for(link.sender_scope))
        keep = frozenset(request.form.getlist("keep"))
        frequency = request.form.get("frequency") or "normal"
        if not keep <= set(offered):
            raise PageError("choice", ", ".join(sorted(keep - set(offered)))[:80])
        if frequency not in choices.FREQUENCIES:
            raise PageError("choice", f"frequency={frequency[:20]}")
        prefs = choices.Preferences(keep, _int_choice("pause", choices.PAUSE_DAYS), frequency, offered)
        choices.save_preferences(session, link, prefs, language, utcnow(), _grace())
    return _to_done(token, "saved", language)


@bp.post("/<token>/reason")
def reason(token: str) -> Any:
    """The optional why: one of keywords.yaml's reasons and free text."""
    with database().begin() as session:
        link, language = _checked_post(session, token)
        chosen = request.form.get("reason") or None
        if chosen is not None and chosen not in {r.id for r in rules().reasons}:
            raise PageError("choice", f"reason={chosen[:40]}")
        comment = (request.form.get("comment") or "").strip()[:COMMENT_MAX] or None
        choices.give_reason(session, link, chosen, comment, language)
    return _to_done(token, "thanks", language)
