"""Routes of opportunities: open, move through the pipeline, reopen, reassign."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from fastapi import APIRouter, Request, Response
from pydantic import Field

from contracts.events.sales import LostReason, PipelineStage
from services.sales.application import queries
from services.sales.application.commands import ChangeDeal, OpenDeal, ReassignDeal
from services.sales.domain import opportunity as opp
from services.sales.entrypoints.http.common import actor, if_match, runtime, send, state_response
from services.sales.entrypoints.http.schemas import (
    PROBLEMS,
    RECORD_ANSWER,
    Accepted,
    Body,
    CorrelationId,
    DealAmount,
    IdempotencyKey,
    Identifier,
    OptionalText,
    Text,
)

router = APIRouter(tags=["opportunities"], responses=PROBLEMS)


class OpenOpportunityBody(Body):
    customer_id: Identifier
    title: Text
    amount: DealAmount
    owner_id: Identifier | None = None
    expected_close: date | None = None


class ChangeStageBody(Body):
    to_stage: PipelineStage
    reason: OptionalText = None
    lost_reason: LostReason | None = Field(None, description="Required when to_stage is lost")
    competitor: str | None = Field(None, max_length=200)
    expected_version: int | None = Field(None, ge=0)


class ReopenBody(Body):
    to_stage: PipelineStage
    reason: OptionalText = None


class AssignBody(Body):
    owner_id: Identifier


@router.post("/opportunities", status_code=201, response_model=Accepted)
async def open_opportunity(
    body: OpenOpportunityBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Open a deal in the pipeline's first stage; without an owner the assignment rules
    pick one by the customer's territory, then round-robin."""
    command = OpenDeal(
        uuid4(),
        body.customer_id,
        body.title,
        body.amount,
        body.owner_id,
        body.expected_close,
        actor(request),
    )
    return await send(request, response, command, idempotency_key, correlation_id)


@router.post("/opportunities/{opportunity_id}/stage", response_model=Accepted)
async def change_stage(
    opportunity_id: UUID,
    body: ChangeStageBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Move the deal; `lost` needs `lost_reason` (catalogue) and `reason` (free text); no
    move out of won or lost without a reopen. A stale `expected_version` answers 409."""
    change = opp.ChangeDealStage(
        opportunity_id, body.to_stage, body.reason, body.lost_reason, body.competitor
    )
    expected = body.expected_version if body.expected_version is not None else if_match(request)
    command = ChangeDeal(change, expected, actor(request))
    return await send(request, response, command, idempotency_key, correlation_id)


@router.post("/opportunities/{opportunity_id}/reopen", response_model=Accepted)
async def reopen(
    opportunity_id: UUID,
    body: ReopenBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    change = opp.ReopenOpportunity(opportunity_id, body.to_stage, body.reason)
    command = ChangeDeal(change, if_match(request), actor(request))
    return await send(request, response, command, idempotency_key, correlation_id)


@router.post("/opportunities/{opportunity_id}/assign", response_model=Accepted)
async def reassign(
    opportunity_id: UUID,
    body: AssignBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Manual reassignment to another seller."""
    command = ReassignDeal(opportunity_id, body.owner_id, if_match(request), actor(request))
    return await send(request, response, command, idempotency_key, correlation_id)


@router.get("/opportunities/{opportunity_id}", responses=RECORD_ANSWER)
async def get_opportunity(opportunity_id: UUID, request: Request) -> Response:
    return state_response(
        *await queries.opportunity(runtime(request), actor(request), opportunity_id)
    )


@router.get("/pipeline")
async def pipeline(request: Request) -> dict[str, str]:
    """Stages in order with their win probability (percent)."""
    return {k: str(v) for k, v in runtime(request).pipeline.probabilities.items()}
