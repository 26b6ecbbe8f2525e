"""Routes of leads: capture, qualify or disqualify, convert into a customer."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Request, Response
from pydantic import Field

from contracts.events.sales import Address, LeadSource
from services.sales.application.commands import ChangeLead, ConvertLead, DealDraft
from services.sales.domain import lead
from services.sales.entrypoints.http.common import if_match, region, runtime, send, state_response
from services.sales.entrypoints.http.schemas import (
    PROBLEMS,
    RECORD_ANSWER,
    Accepted,
    Body,
    CorrelationId,
    DealAmount,
    Emails,
    IdempotencyKey,
    Identifier,
    Phones,
    Text,
)

router = APIRouter(tags=["leads"], responses=PROBLEMS)


class CaptureLeadBody(Body):
    source: LeadSource
    name: Annotated[str, Field(min_length=1, max_length=240)]
    company: str | None = Field(None, max_length=300)
    emails: Emails = []
    phones: Phones = []
    address: Address | None = None
    notes: str | None = Field(None, max_length=5000)
    owner_id: Identifier | None = None


class QualifyBody(Body):
    qualified_by: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=5000)


class DisqualifyBody(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class OpportunityDraft(Body):
    title: Text
    amount: DealAmount
    expected_close: date | None = None


class ConvertBody(Body):
    opportunity: OpportunityDraft | None = None


@router.post("/leads", status_code=201, response_model=Accepted)
async def capture_lead(
    body: CaptureLeadBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Capture a prospect from a web form, an event, an import or a referral. Without an
    owner, the assignment rules choose one (territory, then round-robin)."""
    command = lead.CaptureLead(
        uuid4(),
        body.source,
        body.name,
        body.company,
        tuple(body.emails),
        tuple(body.phones),
        body.address,
        body.notes,
        body.owner_id,
        region(body.address, None),
    )
    return await send(request, response, command, idempotency_key, correlation_id)


@router.post("/leads/{lead_id}/qualify", response_model=Accepted)
async def qualify_lead(
    lead_id: UUID,
    body: QualifyBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    command = ChangeLead(
        lead.QualifyLead(lead_id, body.qualified_by, body.notes), if_match(request)
    )
    return await send(request, response, command, idempotency_key, correlation_id)


@router.post("/leads/{lead_id}/disqualify", response_model=Accepted)
async def disqualify_lead(
    lead_id: UUID,
    body: DisqualifyBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    command = ChangeLead(lead.DisqualifyLead(lead_id, body.reason), if_match(request))
    return await send(request, response, command, idempotency_key, correlation_id)


@router.post("/leads/{lead_id}/convert", response_model=Accepted)
async def convert_lead(
    lead_id: UUID,
    body: ConvertBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Convert a qualified lead into account (when it names a company) + contact +
    opportunity, all in one transaction."""
    draft = body.opportunity
    deal = DealDraft(draft.title, draft.amount, draft.expected_close) if draft else None
    return await send(
        request, response, ConvertLead(lead_id, deal), idempotency_key, correlation_id
    )


@router.get("/leads/{lead_id}", responses=RECORD_ANSWER)
async def get_lead(lead_id: UUID, request: Request) -> Response:
    return state_response(*await runtime(request).load(lead.decider, lead.stream_id(lead_id)))
