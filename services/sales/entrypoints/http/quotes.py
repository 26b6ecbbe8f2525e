"""Routes of quotes: issue, revise, approve, accept, the proposal document, the catalogue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Request, Response
from pydantic import Field

from services.sales.application import queries
from services.sales.application.commands import ChangeQuote, IssueQuote, QuoteLine
from services.sales.domain import quote
from services.sales.entrypoints.http.common import (
    actor,
    if_match,
    json_response,
    runtime,
    send,
    state_response,
)
from services.sales.entrypoints.http.schemas import (
    PERCENT_PATTERN,
    PROBLEMS,
    QUANTITY_PATTERN,
    RECORD_ANSWER,
    Accepted,
    Body,
    CorrelationId,
    IdempotencyKey,
    Identifier,
)

router = APIRouter(tags=["quotes"], responses=PROBLEMS)


class QuoteItemBody(Body):
    product_id: Annotated[str, Field(min_length=1, max_length=100)]
    quantity: Decimal = Field(
        gt=0, max_digits=14, decimal_places=4, json_schema_extra=QUANTITY_PATTERN
    )
    discount_percent: Decimal = Field(
        Decimal(0), ge=0, le=100, max_digits=7, decimal_places=4, json_schema_extra=PERCENT_PATTERN
    )


class IssueQuoteBody(Body):
    customer_id: Identifier
    price_list: Annotated[str, Field(min_length=1, max_length=100)]
    items: list[QuoteItemBody] = Field(min_length=1, max_length=200)
    opportunity_id: UUID | None = None
    valid_until: date | None = None


class ApproveBody(Body):
    approved_by: Annotated[str, Field(min_length=1, max_length=200)]


def _issue(request: Request, quote_id: UUID, body: IssueQuoteBody, revision: bool) -> IssueQuote:
    items = tuple(QuoteLine(i.product_id, i.quantity, i.discount_percent) for i in body.items)
    return IssueQuote(
        quote_id,
        body.customer_id,
        body.price_list,
        items,
        body.opportunity_id,
        body.valid_until,
        revision,
        actor(request),
    )


@router.post("/quotes", status_code=201, response_model=Accepted)
async def issue_quote(
    body: IssueQuoteBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Price the items from the catalogue's price list. A discount above the configured
    threshold needs an approval before the quote can be sent or accepted."""
    command = _issue(request, uuid4(), body, revision=False)
    return await send(request, response, command, idempotency_key, correlation_id)


@router.post("/quotes/{quote_id}/revisions", response_model=Accepted)
async def revise_quote(
    quote_id: UUID,
    body: IssueQuoteBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """A revised quote: a new version of the same quote."""
    command = _issue(request, quote_id, body, revision=True)
    return await send(request, response, command, idempotency_key, correlation_id)


@router.post("/quotes/{quote_id}/approve", response_model=Accepted)
async def approve_quote(
    quote_id: UUID,
    body: ApproveBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    approve = quote.ApproveQuote(quote_id, body.approved_by)
    command = ChangeQuote(approve, if_match(request), actor(request))
    return await send(request, response, command, idempotency_key, correlation_id)


@router.post("/quotes/{quote_id}/accept", response_model=Accepted)
async def accept_quote(
    quote_id: UUID,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    command = ChangeQuote(quote.AcceptQuote(quote_id), if_match(request), actor(request))
    return await send(request, response, command, idempotency_key, correlation_id)


@router.get("/quotes/{quote_id}", responses=RECORD_ANSWER)
async def get_quote(quote_id: UUID, request: Request) -> Response:
    return state_response(*await queries.quote_for(runtime(request), actor(request), quote_id))


@router.get(
    "/quotes/{quote_id}/proposal.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def proposal(quote_id: UUID, request: Request) -> Response:
    """The proposal document of the latest version; only once it may be sent."""
    state, pdf = await queries.proposal(runtime(request), actor(request), quote_id)
    filename = f"proposal-{quote_id}-v{state.version}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/catalogue")
async def catalogue(request: Request) -> Response:
    """Products and price lists."""
    return json_response(runtime(request).catalogue)
