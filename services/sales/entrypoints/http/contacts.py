"""Routes of contacts: people, optionally linked to an account."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Request, Response
from pydantic import Field

from contracts.events.sales import Address
from services.sales.application.commands import CorrectDetails, MergeRecord
from services.sales.domain import contact
from services.sales.entrypoints.http.accounts import MergeBody
from services.sales.entrypoints.http.common import (
    actor,
    if_match,
    region,
    runtime,
    send,
    state_response,
)
from services.sales.entrypoints.http.schemas import (
    DUPLICATE_ANSWER,
    PROBLEMS,
    RECORD_ANSWER,
    Accepted,
    Body,
    CorrelationId,
    Emails,
    IdempotencyKey,
    Identifier,
    PatchBody,
    Phones,
)

router = APIRouter(tags=["customers"], responses=PROBLEMS)


class RegisterContactBody(Body):
    first_name: Annotated[str, Field(min_length=1, max_length=120)]
    last_name: Annotated[str, Field(max_length=120)] = ""
    account_id: UUID | None = None
    job_title: str | None = Field(None, max_length=200)
    tax_id: str | None = Field(None, max_length=40, examples=["529.982.247-25"])
    tax_country: str | None = Field(None, min_length=2, max_length=2)
    phones: Phones = []
    emails: Emails = []
    address: Address | None = None
    owner_id: Identifier | None = None


@router.post("/contacts", status_code=201, response_model=Accepted, responses=DUPLICATE_ANSWER)
async def register_contact(
    body: RegisterContactBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Register a person, optionally linked to an account. Duplicates answer 200."""
    command = contact.RegisterContact(
        uuid4(),
        body.first_name,
        body.last_name,
        body.account_id,
        body.job_title,
        body.tax_id,
        body.tax_country,
        tuple(body.phones),
        tuple(body.emails),
        body.address,
        body.owner_id,
        region(body.address, body.tax_country),
    )
    return await send(request, response, command, idempotency_key, correlation_id, created=True)


class CorrectContactBody(PatchBody):
    first_name: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    last_name: Annotated[str, Field(max_length=120)] | None = None
    job_title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    tax_id: str | None = Field(None, min_length=1, max_length=40, examples=["529.982.247-25"])
    tax_country: str | None = Field(None, min_length=2, max_length=2)
    phones: Phones | None = None
    emails: Emails | None = None
    address: Address | None = None
    corrected_by: str | None = Field(None, max_length=200)


@router.patch("/contacts/{contact_id}", response_model=Accepted)
async def correct_contact(
    contact_id: UUID,
    body: CorrectContactBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Correct the contact's details (a merge patch: only the fields given change; an empty
    last name clears it), checked as at registration; 409 for another record's identity."""
    who = actor(request)
    command = contact.CorrectContact(
        contact_id,
        body.first_name,
        body.last_name,
        body.job_title,
        body.tax_id,
        body.tax_country,
        None if body.phones is None else tuple(body.phones),
        None if body.emails is None else tuple(body.emails),
        body.address,
        who.id if who else body.corrected_by,
        region(body.address, body.tax_country),
    )
    corrected = CorrectDetails(command, if_match(request))
    return await send(request, response, corrected, idempotency_key, correlation_id)


@router.post("/contacts/{contact_id}/merge", response_model=Accepted)
async def merge_contact(
    contact_id: UUID,
    body: MergeBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    command = MergeRecord("contact", contact_id, body.survivor_id, body.reason, body.merged_by)
    return await send(request, response, command, idempotency_key, correlation_id)


@router.get("/contacts/{contact_id}", responses=RECORD_ANSWER)
async def get_contact(contact_id: UUID, request: Request) -> Response:
    stream = contact.stream_id(contact_id)
    return state_response(*await runtime(request).load(contact.decider, stream))
