"""Quotes: issue and revise from the catalogue, approve, accept; each under the team rule
of the deal it belongs to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from services.platform.commands import UnitOfWork
from services.platform.decider import DomainError
from services.platform.eventstore import WrongExpectedVersion
from services.sales.application import commands as cmd
from services.sales.application.access import Actor, check_deal_in, deal_check
from services.sales.domain import quote
from services.sales.domain.pricing import QuoteItem

if TYPE_CHECKING:
    from services.sales.application.runtime import SalesRuntime


async def _guard_quote_deal(
    uow: UnitOfWork, actor: Actor | None, deps: SalesRuntime, quote_id: UUID
) -> int | None:
    """For a command on a quote: the check of the quote's deal, inside its transaction.
    The quote's version it read, so the command appends at that version or not at all (a
    writer in between is a conflict, and the whole command runs again); None if unscoped."""
    if deal_check(actor, deps.rules) is None:
        return None
    state, version = await uow.load(quote.decider, quote.stream_id(quote_id))
    if state.exists and state.opportunity_id is not None:
        await check_deal_in(uow, deps.records, actor, deps.rules, state.opportunity_id)
    return version


async def issue_quote(
    uow: UnitOfWork, command: cmd.IssueQuote, deps: SalesRuntime
) -> dict[str, Any]:
    quote_id = command.quote_id
    stream = quote.stream_id(quote_id)
    if command.revision:
        existing, _ = await uow.load(quote.decider, stream)
        if not existing.exists:
            raise DomainError("no such quote", code="not-found")
    # A revision: the quote's own deal, at the version checked.
    checked = await _guard_quote_deal(uow, command.actor, deps, quote_id)
    if command.opportunity_id is not None:
        deal = await check_deal_in(
            uow, deps.records, command.actor, deps.rules, command.opportunity_id
        )
        if not deal.exists or deal.customer_id != command.customer_id:
            raise DomainError(
                "no such opportunity for this customer",
                field="opportunity_id",
                code="unknown-opportunity",
            )
    issued = quote.IssueQuote(
        quote_id,
        command.customer_id,
        command.price_list,
        [QuoteItem(i.product_id, i.quantity, i.discount_percent) for i in command.items],
        deps.catalogue,
        deps.approval_threshold_percent,
        command.opportunity_id,
        command.valid_until,
    )
    result = await uow.execute(quote.decider, stream, issued, checked)
    return {"id": str(quote_id), **result.as_json()}


async def change_quote(
    uow: UnitOfWork, command: cmd.ChangeQuote, deps: SalesRuntime
) -> dict[str, Any]:
    quote_id = command.command.quote_id
    stream = quote.stream_id(quote_id)
    expected = command.expected_version
    checked = await _guard_quote_deal(uow, command.actor, deps, quote_id)
    if checked is not None:
        if expected is not None and expected != checked:
            raise WrongExpectedVersion(stream, expected, checked)
        expected = checked
    result = await uow.execute(quote.decider, stream, command.command, expected)
    return {"id": str(quote_id), **result.as_json()}
