"""The consent path of one inbound message, built once per app: InboundMessage -> decision -> consent change -> reply.

Provider adapters (gateway/providers/) verify and decode a request into an `InboundMessage` and
hand it to `InboundPath.handle`; what comes back is an `Outcome` they render in their own format.
Nothing here knows about HTTP or a provider. The hops, each a file:

1. decide: `Rules.classify` (keywords/), the reply by intent or action (general.reply_for);
   the scopes its opt-out or opt-in reaches (`_reached`: the brand's senders, keywords/brands.py);
2. keep order: while older messages wait in this machine's spool, this one queues behind them (spool.py);
3. record: the message, its consent change and reply limits, in the worker's group commit or on
   the general path (general.py, then storage/consent/);
4. when the database cannot take it: the spool keeps it and the person gets the same answer.

The settings are read from the app's configuration for each message (an operator's change applies
at once); the spool replay stores what it replays through `replayed`, with the same settings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

from gateway.inbound import clarify, general, replylimits
from gateway.inbound.general import DATABASE_DOWN, Settings
from gateway.inbound.spool import InboundSpool
from gateway.messages import ConsentReport, InboundMessage, Outcome
from gateway.ops.metrics import observe_decision
from keywords import Decision, Rules, RulesHolder
from storage import GLOBAL_SCOPE, Database, deadline
from storage.local_spool import Spool
from storage.types import utcnow

log = logging.getLogger(__name__)


class InboundPath:
    """The rules, database, spool and settings every inbound message goes through."""

    def __init__(self, config: Mapping[str, Any], database: Database, rules: RulesHolder, spool: Spool | None) -> None:
        self.config = config
        self.database = database
        self.rules = rules
        self.spool = InboundSpool(spool, database, record=self.replayed) if spool is not None else None

    def settings(self, rules: Rules) -> Settings:
        """GATEWAY_REPLY_*, GATEWAY_DOUBLE_OPT_IN_HOURS (how long a JOIN waits for its YES), GATEWAY_CLARIFY_SCOPE."""
        return Settings(limits=replylimits.policy_from(self.config), opt_in_window=self.opt_in_window(),
                        clarifier=clarify.from_config(self.config, rules))

    def opt_in_window(self) -> timedelta:
        return timedelta(hours=float(self.config.get("DOUBLE_OPT_IN_HOURS", 24)))

    @contextmanager
    def arriving(self) -> Iterator[None]:
        """Around a webhook request from its start (general.arriving): its batch waits a moment for it."""
        with general.arriving(self.database):
            yield

    def handle(self, message: InboundMessage) -> Outcome:
        """Decide, record and answer one inbound message; a retried delivery gets the first answer again.

        The database work (replaying what waits, then this message) ends by the request's deadline
        (`arriving`, else from here): past it the message is spooled and answered as usual.
        """
        with deadline.within(self.database.deadline):
            rules = self.rules.current
            decision = rules.classify(message.body)
            observe_decision(decision.intent, decision.tier)
            # Only a person's phone number has consent to change and can be replied to.
            reply = general.reply_for(rules, decision, message.sender_scope) if message.from_.is_phone else None
            message, settings = self._reached(message, decision, rules)
            if self.spool is not None and not self.spool.caught_up():
                # Older messages still wait in the spool for the database: this one queues behind them.
                return self.spool.keep(message, decision, rules.version, reply)
            try:
                return general.record(message, decision, rules.version, reply, self.database, settings)
            except DATABASE_DOWN:
                if self.spool is None:
                    raise
                # The database is unreachable: keep the message on disk and answer; it is replayed later.
                log.warning("database unavailable: inbound %s spooled", message.message_id)
                return self.spool.keep(message, decision, rules.version, reply)

    def _reached(self, message: InboundMessage, decision: Decision, rules: Rules) -> tuple[InboundMessage, Settings]:
        """The message with the scopes its opt-out or opt-in reaches (its brand's senders...), and the settings."""
        settings = self.settings(rules)
        if not message.from_.is_phone or general.consent_action(decision) not in ("opt_out", "opt_in") \
                or decision.scope == "all":
            return message, settings
        reach = rules.file.brands.covering(message.scopes, decision.intent, utcnow().date())
        return replace(message, scopes=reach.scopes), replace(settings, reach=tuple(reach.explanation().items()))

    def replayed(self, message: InboundMessage, decision: Decision, rules_version: str, reply: str | None) -> Outcome:
        """Store a message the spool kept: its answer was given when it came, so no limits and no question now."""
        return general.record(message, decision, rules_version, reply, self.database,
                              Settings(opt_in_window=self.opt_in_window()))

    def report(self, report: ConsentReport) -> bool:
        """A provider's report that a recipient opted out at the carrier, reaching as a STOP would; False for a repeat."""
        if GLOBAL_SCOPE in report.scopes:
            return general.handle_consent_report(report, self.database)
        reach = self.rules.current.file.brands.covering(report.scopes, "opt_out", utcnow().date())
        return general.handle_consent_report(replace(report, scopes=reach.scopes), self.database,
                                             Settings(reach=tuple(reach.explanation().items())))

