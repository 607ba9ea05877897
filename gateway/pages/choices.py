"""What a choice on the link page does: consent changes through the ledger, plus a link_choices row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy.orm import Session

from gateway.current import reached
from storage import consent
from storage import links as link_store
from storage.consent import Action, ConsentChange
from storage.links import LinkChoice, UnsubscribeLink
from storage.models import ALL_TOPICS, ConsentEvent

SOURCE = "link_page"
PAUSE_DAYS = (7, 30, 90)
FREQUENCIES = ("normal", "weekly", "monthly")


@dataclass(frozen=True)
class PageState:
    """What the page shows about a number and sender now."""

    unsubscribed: bool
    paused_until: datetime | None
    topics_stopped: frozenset[str]
    frequency: str
    resubscribe_until: datetime | None
    """Until when re-subscribing through this link works; None when it does not (now)."""


@dataclass(frozen=True)
class Preferences:
    """The preference form as submitted: topics to keep, a pause in days (0: none), a frequency."""

    keep: frozenset[str]
    pause_days: int
    frequency: str
    offered: tuple[str, ...] = field(default=())


def state(session: Session, link: UnsubscribeLink, now: datetime, grace: timedelta) -> PageState:
    """The number's consent for the link's sender, and whether the re-subscribe button works."""
    status = consent.suppression_status(session, link.number, link.sender_scope, now=now)
    whole = [entry for entry in status.entries if entry.topic == ALL_TOPICS]
    pauses = [entry.until for entry in whole if entry.until is not None]
    unsubscribed = any(entry.until is None for entry in whole)
    topics = frozenset(entry.topic for entry in status.entries if entry.topic != ALL_TOPICS)
    last = link_store.last_change(session, link.token)
    window = None
    if last is not None and last.choice != "resubscribe" and status.suppressed:
        # Only shortly after a change made through this very link: a forwarded or leaked link,
        # or a stale browser tab, must not sign someone up again weeks later.
        if last.created_at + grace > now:
            window = last.created_at + grace
    return PageState(
        unsubscribed=unsubscribed,
        paused_until=max(pauses) if pauses else None,
        topics_stopped=topics,
        frequency=link_store.current_frequency(session, link.number, link.sender_scope) or "normal",
        resubscribe_until=window,
    )


def _explanation(link: UnsubscribeLink, language: str, **extra: object) -> dict[str, object]:
    return {"via": "unsubscribe_link", "link": link.token, "link_topic": link.topic, "language": language, **extra}


def _change(link: UnsubscribeLink, action: Action, language: str, topic: str = ALL_TOPICS,
            until: datetime | None = None, **extra: object) -> ConsentChange:
    """A change through the link, reaching as a keyword STOP or START to the link's sender would."""
    return reached(ConsentChange(
        number=link.number,
        scopes=(link.sender_scope,),
        action=action,
        topic=topic,
        until=until,
        source=SOURCE,
        explanation=_explanation(link, language, **extra),
    ))


class _PreferencesNote(TypedDict):
    """What every change of a preference form adds to its explanation (its keys fill no other argument)."""

    choice: str
    frequency: str


def _record(session: Session, link: UnsubscribeLink, choice: str, language: str, events: list[int], **values: object) -> LinkChoice:
    return link_store.add_choice(
        session,
        LinkChoice(token=link.token, number=link.number, sender_scope=link.sender_scope, choice=choice,
                   language=language, event_ids=events, **values),
    )


def unsubscribe(session: Session, link: UnsubscribeLink, language: str) -> LinkChoice:
    """The one-tap unsubscribe: every topic from the link's sender."""
    events = consent.apply_change(session, _change(link, "opt_out", language, choice="unsubscribe"))
    return _record(session, link, "unsubscribe", language, [event.id for event in events])


def resubscribe(session: Session, link: UnsubscribeLink, language: str, now: datetime, grace: timedelta) -> LinkChoice | None:
    """Undo through the link within the grace period (as START does); None once the grace is over."""
    if state(session, link, now, grace).resubscribe_until is None:
        return None
    events = consent.apply_change(session, _change(link, "opt_in", language, choice="resubscribe"))
    return _record(session, link, "resubscribe", language, [event.id for event in events])


def save_preferences(session: Session, link: UnsubscribeLink, prefs: Preferences, language: str,
                     now: datetime, grace: timedelta) -> LinkChoice:
    """Stop unticked topics, restore re-ticked ones (within the grace), pause, and note the frequency."""
    before = state(session, link, now, grace)
    dropped = [topic for topic in prefs.offered if topic not in prefs.keep and topic not in before.topics_stopped]
    restored = [topic for topic in prefs.offered if topic in prefs.keep and topic in before.topics_stopped]
    if before.resubscribe_until is None:
        restored = []
    extra: _PreferencesNote = {"choice": "preferences", "frequency": prefs.frequency}
    events: list[ConsentEvent] = []
    for topic in dropped:
        events += consent.apply_change(session, _change(link, "opt_out", language, topic=topic, **extra))
    for topic in restored:
        events += consent.apply_change(session, _change(link, "opt_in", language, topic=topic, **extra))
    if prefs.pause_days:
        until = now + timedelta(days=prefs.pause_days)
        events += consent.apply_change(session, _change(link, "pause", language, until=until, **extra))
    if prefs.frequency != before.frequency:
        # Fewer texts is a change of consent too, though no suppression row says so: the ledger does.
        note = _explanation(link, language, **extra, was=before.frequency)
        events.append(link_store.append_note(session, link, "frequency", True, language, note))
    return _record(
        session, link, "preferences", language, [event.id for event in events],
        topics_dropped=dropped, topics_restored=restored, pause_days=prefs.pause_days or None,
        frequency=prefs.frequency,
    )


def give_reason(session: Session, link: UnsubscribeLink, reason: str | None, comment: str | None, language: str) -> LinkChoice:
    """The optional why: one answer per link in link_choices, and every answer in the ledger."""
    row = link_store.set_reason(session, link, reason, comment, language)
    note = _explanation(link, language, reason=reason, comment=comment)
    link_store.append_note(session, link, "reason", False, language, note)
    return row
