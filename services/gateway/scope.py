"""Deals of other teams kept out of every field a seller or sales manager reads.

The read models carry each deal's owner and team on their own rows (timeline entries:
``deal_owner``, ``deal_team``; the 360 profile: ``deals``), so the rule needs no code of
the context that owns deals:

- roles that are not scoped (agents, marketers, analysts, admins) see every deal;
- a seller sees the deals they own and those whose team is theirs;
- a sales manager sees the deals whose team is theirs;
- a deal whose team is not known is hidden from the scoped roles (unless a seller owns it).

The 360 view is derived again without the hidden deals (``customer360.restricted``): no
last interaction, loss, order or stage gives them away.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.customer360.model import DealFacts, Profile
from projections.customer360.restricted import restricted
from services.gateway.auth import Principal
from services.gateway.policy import SALES_MANAGER, SCOPED_ROLES, SELLER


class DealScope:
    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    @property
    def active(self) -> bool:
        return self.principal.role in SCOPED_ROLES

    def may_see(self, owner_id: str | None, team: str | None) -> bool:
        who = self.principal
        if not self.active:
            return True
        if who.role == SELLER and owner_id is not None and owner_id == who.subject:
            return True
        same_team = who.team is not None and team == who.team
        return who.role in (SELLER, SALES_MANAGER) and same_team

    def _visible(self, facts: DealFacts) -> bool:
        return self.may_see(facts.owner_id, facts.owner_team)

    def profile(self, profile: dict[str, Any]) -> dict[str, Any]:
        """The 360 view as this caller may see it."""
        if not self.active:
            return profile
        view = restricted(Profile.model_validate(profile), self._visible)
        return view.model_dump(mode="json")

    def entries(self, entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """``entries`` without those linked to a deal this caller may not see."""
        if not self.active:
            return list(entries)
        return [
            e
            for e in entries
            if e["links"].get("opportunity_id") is None
            or self.may_see(e.get("deal_owner"), e.get("deal_team"))
        ]
