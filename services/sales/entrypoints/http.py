"""The sales command API (FastAPI). The gateway fronts it; it is usable on its own."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, FastAPI, Header, Request
from pydantic import BaseModel, Field

from contracts.events.sales import PipelineStage
from contracts.money import Money
from services.platform.commands import CommandHandler, CommandResult
from services.platform.eventstore import CommandContext
from services.sales.domain import opportunity as opp

router = APIRouter()


class OpenOpportunityBody(BaseModel):
    customer_id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    amount: Money
    owner_id: str | None = None
    expected_close: date | None = None


class ChangeStageBody(BaseModel):
    to_stage: PipelineStage
    reason: str | None = Field(default=None, max_length=2000)
    expected_version: int | None = Field(default=None, ge=0)


class Accepted(BaseModel):
    id: UUID
    stream_id: str
    version: int = Field(description="Stream version after the command: read your writes to it")
    event_ids: list[str]
    replayed: bool = Field(description="True when an earlier request with this key answered")


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", max_length=200)]


def _accepted(entity_id: UUID, result: CommandResult) -> Accepted:
    return Accepted(
        id=entity_id,
        stream_id=result.stream_id,
        version=result.version,
        event_ids=list(result.event_ids),
        replayed=result.replayed,
    )


def _handler(request: Request) -> CommandHandler:
    handler: CommandHandler = request.app.state.commands
    return handler


@router.post("/opportunities", status_code=201, response_model=Accepted)
async def open_opportunity(
    body: OpenOpportunityBody,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    opportunity_id = uuid4()
    command = opp.OpenOpportunity(
        opportunity_id=opportunity_id,
        customer_id=body.customer_id,
        title=body.title,
        amount=body.amount,
        owner_id=body.owner_id,
        expected_close=body.expected_close,
    )
    result = await _handler(request).handle(
        opp.opportunity,
        opp.stream_id(opportunity_id),
        command,
        idempotency_key=idempotency_key,
        context=CommandContext(correlation_id=correlation_id),
    )
    if result.replayed:
        opportunity_id = UUID(result.stream_id.removeprefix("opportunity-"))
    return _accepted(opportunity_id, result)


@router.post("/opportunities/{opportunity_id}/stage", response_model=Accepted)
async def change_stage(
    opportunity_id: UUID,
    body: ChangeStageBody,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    result = await _handler(request).handle(
        opp.opportunity,
        opp.stream_id(opportunity_id),
        opp.ChangeDealStage(opportunity_id, body.to_stage, body.reason),
        expected_version=body.expected_version,
        idempotency_key=idempotency_key,
        context=CommandContext(correlation_id=correlation_id),
    )
    return _accepted(opportunity_id, result)


def create_app() -> FastAPI:
    from services.platform.problems import install_problem_handlers

    app = FastAPI(title="CRM sales service", version="0.1.0")
    install_problem_handlers(app)
    app.include_router(router)
    return app
