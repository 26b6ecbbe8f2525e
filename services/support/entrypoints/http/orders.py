"""Routes of the self-service on orders: exchange a delivered item (with its return
label), list an order's exchanges, report a late delivery (refunded once)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.support.application import exchanges, refunds
from services.support.entrypoints.http.common import (
    PROBLEMS,
    CorrelationId,
    IdempotencyKey,
    actor,
    json_response,
    runtime,
    send,
)

router = APIRouter(tags=["self-service"], responses=PROBLEMS)


class ExchangeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]
    quantity: int = Field(1, ge=1, le=1000)
    reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")]


@router.post("/orders/{order_id}/exchanges", status_code=201)
async def request_exchange(order_id: UUID, body: ExchangeBody, request: Request,
                           idempotency_key: IdempotencyKey = None,
                           correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Exchange a delivered item within the return window; the answer carries the return
    label and its postage code (also sent to the customer as a transactional message)."""
    exchange_id = uuid4()
    command = exchanges.AskExchange(exchange_id, order_id, body.product_id, body.quantity,
                                    body.reason, actor(request))  # fmt: skip
    return await send(request, command, idempotency_key, correlation_id, 201,
                      f"/v1/support/orders/{order_id}/exchanges")  # fmt: skip


@router.get("/orders/{order_id}/exchanges")
async def list_exchanges(order_id: UUID, request: Request) -> Response:
    """The order's exchanges with their labels, oldest first."""
    found = await exchanges.list_exchanges(runtime(request), order_id, actor(request))
    return json_response({"items": found})


@router.post("/orders/{order_id}/late-delivery")
async def report_late_delivery(order_id: UUID, request: Request,
                               idempotency_key: IdempotencyKey = None,
                               correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """The promised delivery date passed without delivery: the order's total is refunded,
    once; asked again, the same refund is the answer."""
    command = refunds.ReportLateDelivery(order_id, actor(request))
    return await send(request, command, idempotency_key, correlation_id)
