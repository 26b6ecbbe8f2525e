"""Routes of accounts: companies, organisations and groups."""

from __future__ import annotations

from uuid import UUID, uuid4

from fastapi import APIRouter, Request, Response
from pydantic import Field

from contracts.events.sales import AccountKind, Address
from services.sales.application.commands import CorrectDetails, MergeRecord
from services.sales.domain import account
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
    OptionalText,
    PatchBody,
    Phones,
    Text,
)

router = APIRouter(tags=["customers"], responses=PROBLEMS)


class RegisterAccountBody(Body):
    name: Text
    kind: AccountKind = "company"
    tax_id: str | None = Field(None, max_length=40, examples=["11.222.333/0001-81"])
    tax_country: str | None = Field(None, min_length=2, max_length=2, examples=["BR"])
    phones: Phones = []
    emails: Emails = []
    address: Address | None = None
    owner_id: Identifier | None = None


class MergeBody(Body):
    survivor_id: UUID
    reason: OptionalText = None
    merged_by: str | None = Field(None, max_length=200)


@router.post("/accounts", status_code=201, response_model=Accepted, responses=DUPLICATE_ANSWER)
async def register_account(
    body: RegisterAccountBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Register a company, organisation or group. A duplicate (same tax id, e-mail or phone)
    answers 200 with the existing record and `duplicate: true`."""
    command = account.RegisterAccount(
        uuid4(),
        body.name,
        body.kind,
        body.tax_id,
        body.tax_country,
        tuple(body.phones),
        tuple(body.emails),
        body.address,
        body.owner_id,
        region(body.address, body.tax_country),
    )
    return await send(request, response, command, idempotency_key, correlation_id, created=True)


class CorrectAccountBody(PatchBody):
    name: Text | None = None
    tax_id: str | None = Field(None, min_length=1, max_length=40, examples=["11.222.333/0001-81"])
    tax_country: str | None = Field(None, min_length=2, max_length=2, examples=["BR"])
    phones: Phones | None = None
    emails: Emails | None = None
    address: Address | None = None
    corrected_by: str | None = Field(None, max_length=200)


@router.patch("/accounts/{account_id}", response_model=Accepted)
async def correct_account(
    account_id: UUID,
    body: CorrectAccountBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Correct the account's details (a merge patch: only the fields given change), checked
    as at registration. `If-Match` names the version read; an e-mail, phone or tax id of
    another record answers 409."""
    who = actor(request)
    command = account.CorrectAccount(
        account_id,
        body.name,
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


@router.post("/accounts/{account_id}/merge", response_model=Accepted)
async def merge_account(
    account_id: UUID,
    body: MergeBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Merge this account into the survivor, leaving a trail (`RecordsMerged`)."""
    command = MergeRecord("account", account_id, body.survivor_id, body.reason, body.merged_by)
    return await send(request, response, command, idempotency_key, correlation_id)


@router.get("/accounts/{account_id}", responses=RECORD_ANSWER)
async def get_account(account_id: UUID, request: Request) -> Response:
    stream = account.stream_id(account_id)
    return state_response(*await runtime(request).load(account.decider, stream))
