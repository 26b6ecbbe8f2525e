"""Routes of orders: place (from an accepted quote or directly), deliver, cancel, return."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Request, Response
from pydantic import ConfigDict, Field

from contracts.events.sales import OrderLine
from services.sales.application.commands import ChangeOrder, PlaceOrder
from services.sales.domain import order
from services.sales.entrypoints.http.common import actor, if_match, runtime, send, state_response
from services.sales.entrypoints.http.schemas import (
    PROBLEMS,
    QUANTITY_PATTERN,
    RECORD_ANSWER,
    Accepted,
    Body,
    CorrelationId,
    IdempotencyKey,
    Identifier,
)

router = APIRouter(tags=["orders"], responses=PROBLEMS)


class OrderLineBody(OrderLine):
    """A line of a direct sale: the contract's ``OrderLine``, with its quantity's rule
    (more than 0, 10 digits before the point and 4 after) written into the document."""

    model_config = ConfigDict(frozen=True, extra="ignore", title="OrderLine")

    quantity: Decimal = Field(
        gt=0, max_digits=14, decimal_places=4, json_schema_extra=QUANTITY_PATTERN
    )


class PlaceOrderBody(Body):
    customer_id: Identifier | None = None
    quote_id: UUID | None = Field(None, description="An accepted quote becomes the order")
    lines: list[OrderLineBody] = Field([], max_length=200)
    channel: Annotated[str, Field(max_length=50)] = "direct"
    opportunity_id: UUID | None = None


class ReasonBody(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class ReturnBody(ReasonBody):
    defective: bool = False


@router.post("/orders", status_code=201, response_model=Accepted)
async def place_order(
    body: PlaceOrderBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """From an accepted quote (`quote_id`) or a direct sale (`customer_id` + `lines`).
    Emits order placed and purchase made. A quote becomes at most one order: its order id
    is derived from the quote's, so a second attempt is a conflict, not a second sale."""
    command = PlaceOrder(
        uuid4(),
        body.customer_id,
        body.quote_id,
        tuple(OrderLine.model_validate(line.model_dump()) for line in body.lines),
        body.channel,
        body.opportunity_id,
        actor(request),
    )
    return await send(request, response, command, idempotency_key, correlation_id)


async def _change(
    request: Request,
    response: Response,
    change: order.DeliverOrder | order.CancelOrder | order.ReturnOrder,
    idempotency_key: str | None,
    correlation_id: str | None,
) -> Accepted:
    command = ChangeOrder(change, if_match(request))
    return await send(request, response, command, idempotency_key, correlation_id)


@router.post("/orders/{order_id}/deliver", response_model=Accepted)
async def deliver_order(
    order_id: UUID,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    change = order.DeliverOrder(order_id)
    return await _change(request, response, change, idempotency_key, correlation_id)


@router.post("/orders/{order_id}/cancel", response_model=Accepted)
async def cancel_order(
    order_id: UUID,
    body: ReasonBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    change = order.CancelOrder(order_id, body.reason)
    return await _change(request, response, change, idempotency_key, correlation_id)


@router.post("/orders/{order_id}/return", response_model=Accepted)
async def return_order(
    order_id: UUID,
    body: ReturnBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    change = order.ReturnOrder(order_id, body.reason, body.defective)
    return await _change(request, response, change, idempotency_key, correlation_id)


@router.get("/orders/{order_id}", responses=RECORD_ANSWER)
async def get_order(order_id: UUID, request: Request) -> Response:
    return state_response(*await runtime(request).load(order.decider, order.stream_id(order_id)))
