"""Routes of activities (calls, meetings, tasks, notes, e-mails) and follow-ups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Request, Response
from pydantic import AwareDatetime, Field

from contracts.events.sales import ActivityKind, RelatedTo
from services.sales.application.commands import LogActivity, ScheduleFollowUp
from services.sales.domain import activity as act
from services.sales.entrypoints.http.common import if_match, runtime, send, state_response
from services.sales.entrypoints.http.schemas import (
    PROBLEMS,
    RECORD_ANSWER,
    Accepted,
    Body,
    CorrelationId,
    IdempotencyKey,
    Identifier,
    Text,
)

router = APIRouter(tags=["activities"], responses=PROBLEMS)


class LogActivityBody(Body):
    customer_id: Identifier
    kind: ActivityKind
    subject: Text
    happened_at: AwareDatetime | None = Field(None, description="Default: now")
    notes: str | None = Field(None, max_length=10000)
    outcome: str | None = Field(None, max_length=500)
    duration_minutes: int | None = Field(None, ge=0, le=1440)
    actor_id: str | None = Field(None, max_length=200)
    related: RelatedTo = RelatedTo()


class ScheduleFollowUpBody(Body):
    customer_id: Identifier
    owner_id: Identifier
    subject: Text
    due_at: AwareDatetime
    channel: Literal["email", "messaging", "in_app"] = "in_app"
    related: RelatedTo = RelatedTo()


@router.post("/activities", status_code=201, response_model=Accepted)
async def log_activity(
    body: LogActivityBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Log a call, meeting, task, note or e-mail against a customer (and optionally an
    account, contact or opportunity)."""
    logged = act.LogActivity(
        uuid4(),
        body.customer_id,
        body.kind,
        body.subject,
        body.happened_at or datetime.now(UTC),
        body.notes,
        body.outcome,
        body.duration_minutes,
        body.actor_id,
        body.related,
    )
    command = LogActivity(logged, if_match(request))
    return await send(request, response, command, idempotency_key, correlation_id)


@router.post("/follow-ups", status_code=201, response_model=Accepted)
async def schedule_follow_up(
    body: ScheduleFollowUpBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Remind the owner to call back, meet, clarify or close: a `follow_up_due` event is
    emitted exactly once when `due_at` passes."""
    scheduled = act.ScheduleFollowUp(
        uuid4(),
        body.customer_id,
        body.owner_id,
        body.subject,
        body.due_at,
        datetime.now(UTC),
        body.channel,
        body.related,
    )
    return await send(
        request, response, ScheduleFollowUp(scheduled), idempotency_key, correlation_id
    )


@router.get("/follow-ups/{follow_up_id}", responses=RECORD_ANSWER)
async def get_follow_up(follow_up_id: UUID, request: Request) -> Response:
    stream = act.follow_up_stream_id(follow_up_id)
    return state_response(*await runtime(request).load(act.follow_up_decider, stream))
