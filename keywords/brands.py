"""Brands and the reach of an opt-out: which of a business's senders a STOP to one of them covers.

`brands:` in keywords.yaml gives each brand an id, its senders (numbers, short codes, Messaging
Service ids, other providers' profile ids) and its reach:

- `number`: only the sender written to (and its messaging service), as providers do by themselves;
- `brand` (the default): every sender of the brand;
- `account`: every sender of every brand, the `*` scope STOPALL uses (the FCC's revoke-all rule);
  `account_from: 2027-01-31` switches a brand to it on that day, ahead of the rule or at it.

A sender in no brand is a brand of its own. Pure Python: every source of a consent change (a
keyword, a carrier report, the unsubscribe page, staff, an import) asks `Brands.covering`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

REACHES = ("number", "brand", "account")
DEFAULT_REACH = "brand"
BRAND_FIELDS = ("name", "senders", "reach", "account_from")
EVERY_SENDER = "*"
"""The sender scope of every sender (storage's GLOBAL_SCOPE, the scope STOPALL writes)."""


@dataclass(frozen=True, slots=True)
class Brand:
    id: str
    line: int
    senders: tuple[str, ...]
    reach: str = DEFAULT_REACH
    account_from: date | None = None
    name: str = ""

    def reach_on(self, day: date) -> tuple[str, str]:
        """The reach in force on `day`, and why (what the ledger records)."""
        if self.account_from is not None and day >= self.account_from:
            return "account", f"brand {self.id}: account from {self.account_from.isoformat()}"
        return self.reach, f"brand {self.id}: reach {self.reach}"


@dataclass(frozen=True, slots=True)
class Reach:
    """What one opt-out or opt-in covers: the scopes, and the reach and reason the ledger records."""

    scopes: tuple[str, ...]
    reach: str
    why: str

    def explanation(self) -> dict[str, str]:
        return {"reach": self.reach, "reach_reason": self.why}


@dataclass(frozen=True, slots=True)
class Brands:
    """Every brand of the file, and each sender's brand."""

    brands: dict[str, Brand] = field(default_factory=dict)
    of_sender: dict[str, str] = field(default_factory=dict)

    def brand_of(self, scopes: Sequence[str]) -> Brand | None:
        return next((self.brands[self.of_sender[s]] for s in scopes if s in self.of_sender), None)

    def reach(self, scopes: tuple[str, ...], day: date) -> Reach:
        """The scopes a keyword opt-out to `scopes` covers on `day` (the message's own first, so its row names them)."""
        brand = self.brand_of(scopes)
        if brand is None:
            return Reach(scopes, DEFAULT_REACH, "no brand: the sender is a brand of its own")
        reach, why = brand.reach_on(day)
        if reach == "number":
            return Reach(scopes, reach, why)
        if reach == "account":
            return Reach((*scopes, EVERY_SENDER), reach, why)
        return Reach(tuple(dict.fromkeys((*scopes, *brand.senders))), reach, why)

    def covering(self, scopes: tuple[str, ...], action: str, day: date, chosen: str | None = None) -> Reach:
        """What a change of `action` to `scopes` covers on `day`: an opt-out or a pause its reach (the brand's,
        or `chosen` by staff), an opt-in what that opt-out covered. The every-sender scope reaches every sender."""
        if EVERY_SENDER in scopes:
            return Reach(scopes, "account", "every sender named")
        if chosen is None:
            reach = self.reach(scopes, day)
        elif chosen not in REACHES:
            raise ValueError(f"reach: one of {', '.join(REACHES)}")
        else:
            brand = self.brand_of(scopes)
            covered = {"number": scopes, "account": (*scopes, EVERY_SENDER),
                       "brand": tuple(dict.fromkeys((*scopes, *(brand.senders if brand else ()))))}[chosen]
            reach = Reach(covered, chosen, f"chosen: {chosen}")
        if action == "opt_in" and reach.reach == "account":
            # The sender's own scopes: an opt-in lifts the `*` opt-out with them (storage's planner).
            return replace(reach, scopes=scopes)
        return reach
