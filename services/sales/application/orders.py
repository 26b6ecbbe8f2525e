"""Orders: placed from an accepted quote or as a direct sale, then delivered, cancelled
or returned."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from services.platform.commands import UnitOfWork
from services.platform.decider import DomainError
from services.sales.application import commands as cmd
from services.sales.application.access import check_deal_in
from services.sales.domain import order, quote

if TYPE_CHECKING:
    from services.sales.application.runtime import SalesRuntime

ORDER_FROM_QUOTE = UUID("0f8b6a52-3f1e-4c47-9d8e-5b3c2a1f0e9d")
"""Namespace of the order ids derived from quote ids."""


def order_id_for(command: cmd.PlaceOrder) -> UUID:
    """A quote becomes at most one order: its order id is derived from the quote's, so a
    second attempt is a conflict, not a second sale."""
    if command.quote_id is None:
        return command.order_id
    return uuid5(ORDER_FROM_QUOTE, str(command.quote_id))


async def place_order(
    uow: UnitOfWork, command: cmd.PlaceOrder, deps: SalesRuntime
) -> dict[str, Any]:
    order_id = order_id_for(command)
    placed: order.PlaceOrder
    if command.quote_id is not None:
        accepted, _ = await uow.load(quote.decider, quote.stream_id(command.quote_id))
        if not accepted.exists:
            raise DomainError("no such quote", field="quote_id", code="unknown-quote")
        if not accepted.accepted:
            raise DomainError(
                "only an accepted quote becomes an order", field="quote_id", code="not-accepted"
            )
        if accepted.opportunity_id is not None:  # the deal's team
            await check_deal_in(
                uow, deps.records, command.actor, deps.rules, accepted.opportunity_id
            )
        placed = order.place_order_from_quote(order_id, accepted, command.channel)
    else:
        if command.customer_id is None or not command.lines:
            raise DomainError("a direct sale needs customer_id and lines", field="lines")
        if command.opportunity_id is not None:  # the deal's team
            await check_deal_in(
                uow, deps.records, command.actor, deps.rules, command.opportunity_id
            )
        placed = order.PlaceOrder(
            order_id,
            command.customer_id,
            list(command.lines),
            command.channel,
            opportunity_id=command.opportunity_id,
        )
    result = await uow.execute(order.decider, order.stream_id(order_id), placed)
    return {"id": str(order_id), **result.as_json()}


async def change_order(
    uow: UnitOfWork, command: cmd.ChangeOrder, deps: SalesRuntime
) -> dict[str, Any]:
    order_id = command.command.order_id
    result = await uow.execute(
        order.decider, order.stream_id(order_id), command.command, command.expected_version
    )
    return {"id": str(order_id), **result.as_json()}
