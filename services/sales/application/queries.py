"""Reads of the sales store that the team rule applies to: a deal, a quote on a deal, and
a quote's proposal document. Read-your-writes: from the store itself."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from services.platform.decider import DomainError
from services.sales.application.access import Actor, deal_check
from services.sales.domain import opportunity as opp
from services.sales.domain import quote

if TYPE_CHECKING:
    from services.sales.application.runtime import SalesRuntime


async def opportunity(
    deps: SalesRuntime, actor: Actor | None, opportunity_id: UUID
) -> tuple[opp.Opportunity, int]:
    state, version = await deps.load(opp.decider, opp.stream_id(opportunity_id))
    check = deal_check(actor, deps.rules)
    if check is not None:
        check(state)
    return state, version


async def check_quote_deal(deps: SalesRuntime, actor: Actor | None, quote_id: UUID) -> None:
    """A quote on a deal belongs to the deal's team: the check for reading a quote."""
    check = deal_check(actor, deps.rules)
    if check is None:
        return
    state, _ = await deps.load(quote.decider, quote.stream_id(quote_id))
    if state.exists and state.opportunity_id is not None:
        deal, _ = await deps.load(opp.decider, opp.stream_id(state.opportunity_id))
        check(deal)


async def quote_for(
    deps: SalesRuntime, actor: Actor | None, quote_id: UUID
) -> tuple[quote.Quote, int]:
    await check_quote_deal(deps, actor, quote_id)
    return await deps.load(quote.decider, quote.stream_id(quote_id))


async def proposal(
    deps: SalesRuntime, actor: Actor | None, quote_id: UUID
) -> tuple[quote.Quote, bytes]:
    """The proposal document of the quote's latest version; only once it may be sent."""
    await check_quote_deal(deps, actor, quote_id)
    state, _ = await deps.load(quote.decider, quote.stream_id(quote_id))
    if not state.exists:
        raise DomainError("no such quote", code="not-found")
    if not quote.can_send(state):
        raise DomainError(
            "the quote needs an approval before it can be sent", code="approval-required"
        )
    return state, deps.render_proposal(state, await deps.customer_name(state.customer_id))
