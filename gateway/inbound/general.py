"""Recording one decided message: its consent change and reply, on the batched path or the general one.

`record` is what `InboundPath` (path.py) calls once a message is decided, and what the spool replay
calls for a message decided while the database was down. STOP and START from a phone go to the
worker's group commit (storage/consent/batch.py); JOIN, YES, hints and scope clarification take the
general path here, one transaction per message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.inbound.clarify import Clarifier, Turn
from gateway.messages import ConsentReport, InboundMessage, Outcome
from gateway.ops.metrics import REPLIES_WITHHELD
from keywords import Decision, Rules
from storage import Database, DeliveryReport, GLOBAL_SCOPE, InboundRow
from storage import consent, deadline
from storage.consent.batch import InboundRecord
from storage.consent.intake import UNREACHABLE, intake
from storage.limits import ReplyPolicy, take_reply
from storage.types import utcnow

log = logging.getLogger(__name__)

DATABASE_DOWN = UNREACHABLE
"""Errors that mean the database cannot take the message now: it goes to the local spool instead.

PoolTimeout covers storage.deadline.DeadlineExceeded: the request's deadline passed first."""

CONSENT_ACTIONS = {"opt_out": "opt_out", "opt_in": "opt_in"}
"""Intents that change consent, and the ledger action each one records."""
DOUBLE_OPT_IN_ACTIONS = ("join", "confirm")
"""Keyword-file actions of double opt-in: JOIN asks for a YES within the window, YES confirms."""
ANSWER_ONLY_ACTIONS = ("ask", "hint")
"""Keyword-file actions that are answered (the ask reply: send START to confirm) and change no consent."""
DOUBLE_OPT_IN_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Settings:
    """What recording a message needs beyond the message: reply limits, the JOIN window, scope clarification."""

    limits: ReplyPolicy | None = None
    opt_in_window: timedelta = DOUBLE_OPT_IN_WINDOW
    clarifier: Clarifier | None = None
    reach: tuple[tuple[str, str], ...] = ()
    """What the ledger records of the reach applied to the message's scopes (keywords/brands.py)."""

    def explanation(self, decision: Decision) -> dict[str, Any]:
        """The decision as the ledger and the message's row keep it, with the reach applied."""
        return {**decision.to_dict(), **dict(self.reach)}


def consent_action(decision: Decision) -> str | None:
    """The ledger action a decision asks for: JOIN and YES by their keyword action, others by intent.

    An `ask` (a re-subscribe reached only by a typo or a loose phrase) changes nothing: texting a
    person who did not ask is the costly mistake, so it is only answered, asking for START.
    """
    action = getattr(decision, "action", None)  # Decision.action: the keyword file's intent that matched
    if action in ANSWER_ONLY_ACTIONS:
        return None
    return action if action in DOUBLE_OPT_IN_ACTIONS else CONSENT_ACTIONS.get(decision.intent)


def reply_for(rules: Rules, decision: Decision, scope: str) -> str | None:
    """The reply text: the double opt-in kinds by action, everything else by intent."""
    action = consent_action(decision)
    if action in DOUBLE_OPT_IN_ACTIONS:
        return rules.reply(action, decision.language, scope)
    return rules.reply_for(decision, scope)


@contextmanager
def arriving(database: Database) -> Iterator[None]:
    """Around a webhook request from its start: the worker's group commit waits a moment for its message.

    The request's deadline for the database (GATEWAY_WEBHOOK_DEADLINE) starts here too.
    """
    with deadline.within(database.deadline), intake(database).arriving():
        yield


def record(
    message: InboundMessage, decision: Decision, rules_version: str, reply: str | None, database: Database,
    settings: Settings = Settings(),
) -> Outcome:
    """Store the message and apply its consent change once; a repeated message id gets the stored answer.

    Within the caller's deadline, else one of Database.deadline (a spool replay: one message's worth).
    """
    with deadline.within(database.deadline):
        action = consent_action(decision)
        if action not in DOUBLE_OPT_IN_ACTIONS and settings.clarifier is None and decision.action != "hint":
            # The common case: committed together with the other messages this worker has in hand.
            # JOIN/YES, scope clarification (its question and answer share the message's
            # transaction) and hints (sent only to someone not opted out) take the general path below.
            stored = intake(database).record(_inbound(message, decision, rules_version, reply, action, settings))
            if stored.withheld is not None:
                _withheld(message, stored.withheld)
            if action and not message.from_.is_phone:
                log.info("not a phone sender (%s); %s recorded without a consent change",
                         message.from_.kind, decision.intent)
            return Outcome(intent=stored.intent, reply=stored.reply, duplicate=stored.duplicate)
        try:
            return _record(message, decision, rules_version, reply, database, settings)
        except IntegrityError:
            # A concurrent delivery of the same message id won the race: answer as it did.
            with database.begin() as session:
                found = consent.find_inbound(session, message.provider, message.message_id)
            if found is None:
                raise
            return Outcome(intent=found.intent, reply=found.reply, duplicate=True)


def _withheld(message: InboundMessage, limit: str) -> None:
    REPLIES_WITHHELD.labels(limit).inc()
    log.info("reply to inbound %s withheld by the %s limit", message.message_id, limit)


def _inbound(
    message: InboundMessage, decision: Decision, rules_version: str, reply: str | None, action: str | None,
    settings: Settings,
) -> InboundRecord:
    phone = message.from_.is_phone
    return InboundRecord(
        provider=message.provider,
        message_id=message.message_id,
        from_address=message.from_.value,
        from_kind=message.from_.kind,
        to_address=message.to.value,
        scopes=message.scopes,
        body=message.body,
        intent=decision.intent,
        decision=settings.explanation(decision),
        rules_version=rules_version,
        reply=reply,
        change=action if phone and action in ("opt_out", "opt_in") else None,  # type: ignore[arg-type]
        stop_all=action == "opt_out" and decision.scope == "all",
        limits=settings.limits,
        phone=phone,
    )


def _record(
    message: InboundMessage, decision: Decision, rules_version: str, reply: str | None, database: Database,
    settings: Settings,
) -> Outcome:
    action = consent_action(decision)
    with database.begin() as session:
        if message.from_.is_phone:
            # Lock first, so a retry that races the original waits for it and then sees it.
            consent.lock_subject(session, message.from_.value)
        stored = consent.find_inbound(session, message.provider, message.message_id)
        if stored is not None:
            return Outcome(intent=stored.intent, reply=stored.reply, duplicate=True)
        reply, turn = _reply(session, message, decision, reply, settings)
        received = consent.add_inbound(session, InboundRow(
            **_inbound(message, decision, rules_version, reply, action, settings).columns(reply)))
        if action and message.from_.is_phone:
            consent.apply_change(session, _change(message, decision, action, rules_version, received.id, settings))
        elif action:
            log.info("not a phone sender (%s); %s recorded without a consent change", message.from_.kind, decision.intent)
        if turn is not None:
            turn.finish(session, received)
    return Outcome(intent=decision.intent, reply=reply, duplicate=False)


def _reply(session: Session, message: InboundMessage, decision: Decision, reply: str | None,
           settings: Settings) -> tuple[str | None, Turn | None]:
    """The reply the general path gives, under the number's lock, and the clarification turn it takes."""
    number, phone = message.from_.value, message.from_.is_phone
    if consent_action(decision) == "confirm" and not consent.can_confirm(session, number, message.scopes):
        # A YES with nothing pending (late, or part of a conversation) gets no "confirmed" reply.
        reply = None
    if decision.action == "hint" and phone and any(
            consent.suppression_status(session, number, scope).suppressed for scope in message.scopes):
        reply = None  # "reply STOP to opt out" is no news to someone who has
    # Opt-out scope clarification (clarify.py): a STOP may ask which topics it covers, an answer
    # gets its confirmation; the turn's writes follow the consent change.
    turn = settings.clarifier.begin(session, message, decision, reply) if settings.clarifier is not None else None
    if turn is not None:
        reply = turn.reply
    if reply is not None and settings.limits is not None:
        # Under the number's lock: every worker and machine counts the same replies. A withheld
        # reply never holds back the consent change, and an opt-out's confirmation is never rate-limited.
        withheld = take_reply(session, number, reply, settings.limits,
                              opt_out=consent_action(decision) == "opt_out")
        if withheld is not None:
            _withheld(message, withheld)
            reply = None
    return reply, turn


def _change(message: InboundMessage, decision: Decision, action: str, rules_version: str, received_id: int,
            settings: Settings) -> consent.ConsentChange:
    scopes = (GLOBAL_SCOPE,) if action == "opt_out" and decision.scope == "all" else message.scopes
    return consent.ConsentChange(
        number=message.from_.value, scopes=scopes, action=action,  # type: ignore[arg-type]
        until=utcnow() + settings.opt_in_window if action == "join" else None, source="keyword",
        inbound_message_id=received_id, explanation=settings.explanation(decision), rules_version=rules_version,
    )


def handle_consent_report(report: ConsentReport, database: Database, settings: Settings = Settings()) -> bool:
    """Suppress a recipient the provider says has opted out at the carrier; False for a repeat.

    `report.scopes` are the ones its opt-out reaches (InboundPath.report widens them by brand).

    Within Database.deadline: a database that hangs gets a 503 (the provider retries) before its timeout.
    """
    with deadline.within(database.deadline), database.begin() as session:
        consent.lock_subject(session, report.recipient.value)
        if consent.find_delivery_report(session, report.provider, report.message_id, report.status):
            return False
        stored = consent.add_delivery_report(
            session,
            DeliveryReport(
                provider=report.provider,
                provider_message_id=report.message_id,
                status=report.status,
                error_code=report.error_code,
                recipient=report.recipient.value,
                sender_scope=report.scopes[0],
            ),
        )
        consent.apply_change(
            session,
            consent.ConsentChange(
                number=report.recipient.value,
                scopes=report.scopes,
                action="opt_out",
                source="provider_report",
                delivery_report_id=stored.id,
                explanation={"provider": report.provider, "error_code": report.error_code, "status": report.status,
                             **dict(settings.reach)},
            ),
        )
    return True
