"""Deals of other teams kept out of the reads of sellers and sales managers.

The sales service refuses them a deal of another team (``services.sales.application.
access``); the customer's 360 view and timeline must not show it either. For those two
roles the 360 view keeps the open deals they may touch (the view knows their owner) and
the closed ones whose last owner they may touch, and the timeline leaves out the entries
linked to a deal of another team. A closed deal's or an entry's owner is the latest one
the timeline recorded (opened with an owner, or assigned); a deal without one is left out.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from projections.timeline.queries import survivor_of
from services.gateway.auth import Principal
from services.platform.db import Connection
from services.sales.application.access import Actor, may_touch_deal
from services.sales.application.assignment import AssignmentRules


@functools.cache
def _rules() -> AssignmentRules:
    return AssignmentRules.load()


OWNER_EVENTS = ["crm.sales.opportunity_opened", "crm.sales.opportunity_assigned"]

_OWNERS = """
SELECT DISTINCT ON (deal) deal, owner FROM (
    SELECT links->>'opportunity_id' AS deal, payload->>'owner_id' AS owner, occurred_at, sort_key
    FROM timeline_entries
    WHERE customer_id = $1 AND event_type = ANY($2::text[])
      AND links->>'opportunity_id' = ANY($3::text[])
) AS recorded
ORDER BY deal, occurred_at DESC, sort_key DESC
"""


class DealScope:
    def __init__(self, principal: Principal) -> None:
        self.actor = Actor(principal.subject, principal.role, principal.team)
        self.rules = _rules()

    @property
    def active(self) -> bool:
        return self.actor.scoped

    def may(self, owner_id: str | None) -> bool:
        return may_touch_deal(self.actor, owner_id, self.rules)

    async def profile(self, conn: Connection, profile: dict[str, Any]) -> dict[str, Any]:
        """The 360 view without the open and closed deals of other teams."""
        if not self.active:
            return profile
        deals = profile.get("open_opportunities") or {}
        kept = {k: v for k, v in deals.items() if self.may((v or {}).get("owner_id"))}
        closed = profile.get("closed_opportunities") or {}
        if closed:
            # A merged-away customer's entries are on its survivor's timeline.
            whose = await survivor_of(conn, profile["customer_id"])
            owners = await self._owners(conn, whose, closed)
            closed = {
                deal: outcome for deal, outcome in closed.items() if self.may(owners.get(deal))
            }
        return {**profile, "open_opportunities": kept, "closed_opportunities": closed}

    async def entries(
        self, conn: Connection, customer_id: str, entries: Sequence[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """``entries`` without those linked to a deal of another team."""
        if not self.active:
            return list(entries)
        deals = {e["links"].get("opportunity_id") for e in entries} - {None}
        if not deals:
            return list(entries)
        owners = await self._owners(conn, customer_id, deals)
        hidden = {deal for deal in deals if not self.may(owners.get(deal))}
        return [e for e in entries if e["links"].get("opportunity_id") not in hidden]

    @staticmethod
    async def _owners(conn: Connection, customer_id: str, deals: Iterable[str]) -> dict[str, str]:
        """Each deal's latest owner as the customer's timeline recorded it."""
        rows = await conn.fetch(_OWNERS, customer_id, OWNER_EVENTS, sorted(deals))
        return {row["deal"]: row["owner"] for row in rows}
