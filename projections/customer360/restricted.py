"""A customer's profile as a reader who may not see some deals sees it.

Record-level access holds in every field: the hidden deals leave the open and closed
opportunities, their orders leave the orders, and everything derived from those facts
(last interaction, last loss, lifetime value, order dates, lifecycle stage) is derived
again without them. Which deals a reader may see is the caller's rule, given as a
predicate on each deal's owner and team, so this module knows no context's rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from projections.customer360.lifecycle import derive
from projections.customer360.model import DealFacts, Profile

Visible = Callable[[DealFacts], bool]


def _latest(*candidates: tuple[datetime | None, str | None]) -> tuple[datetime | None, str | None]:
    known = [(at, summary or "") for at, summary in candidates if at is not None]
    return max(known) if known else (None, None)


def restricted(profile: Profile, visible: Visible) -> Profile:
    """``profile`` without the deals ``visible`` refuses (and deals of unknown owner)."""
    deals = dict(profile.deals)
    for deal, view in profile.open_opportunities.items():
        deals.setdefault(deal, DealFacts(owner_id=view.owner_id, owner_team=view.owner_team))
    hidden = {deal for deal, facts in deals.items() if not visible(facts)}
    hidden |= set(profile.closed_opportunities) - set(deals)  # nobody known: nobody sees it
    if not hidden:
        return profile
    shown = {deal: facts for deal, facts in profile.deals.items() if deal not in hidden}
    data: dict[str, object] = dict(profile.__dict__)
    data["deals"] = shown
    data["open_opportunities"] = {
        k: v for k, v in profile.open_opportunities.items() if k not in hidden
    }
    data["closed_opportunities"] = {
        k: v for k, v in profile.closed_opportunities.items() if k not in hidden
    }
    data["orders"] = {k: v for k, v in profile.orders.items() if v.opportunity_id not in hidden}
    losses = [f.lost_at for f in shown.values() if f.lost_at is not None]
    data["last_lost_at"] = max(losses) if losses else None
    at, summary = _latest(
        (profile.other_interaction_at, profile.other_interaction_summary),
        *((f.last_interaction_at, f.last_interaction_summary) for f in shown.values()),
    )
    data["last_interaction_at"], data["last_interaction_summary"] = at, summary
    derive(data)
    return Profile.model_validate(data)
