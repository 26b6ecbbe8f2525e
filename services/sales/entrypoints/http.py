"""The sales command API (FastAPI). The gateway fronts it; it is usable on its own.

Every POST accepts ``Idempotency-Key`` (a repeat returns the first answer, appends
nothing) and ``X-Correlation-Id`` (carried onto the events). Errors are RFC 9457 problem
documents naming the field at fault.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import unquote
from uuid import UUID, uuid4, uuid5

import orjson
from fastapi import APIRouter, FastAPI, Header, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.events.sales import (
    AccountKind,
    ActivityKind,
    Address,
    LeadSource,
    LostReason,
    OrderLine,
    PipelineStage,
    RelatedTo,
)
from contracts.money import Money
from services.platform.commands import CommandHandler, UnitOfWork
from services.platform.decider import DomainError
from services.platform.eventstore import CommandContext, WrongExpectedVersion
from services.sales.application import customers, deals
from services.sales.application.access import (
    SALES_MANAGER,
    Actor,
    check_new_owner,
    deal_check,
    lock_deal_owner,
    owner_of_new_deal,
)
from services.sales.application.runtime import SalesRuntime
from services.sales.domain import account, contact, lead, order, quote
from services.sales.domain import activity as act
from services.sales.domain import opportunity as opp
from services.sales.domain.pricing import QuoteItem

ORDER_FROM_QUOTE = UUID("0f8b6a52-3f1e-4c47-9d8e-5b3c2a1f0e9d")
"""Namespace of the order ids derived from quote ids."""


class FieldError(BaseModel):
    field: str
    message: str
    type: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem document (application/problem+json)."""

    type: str = Field(examples=["https://opencrm.dev/problems/validation"])
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description,
            "content": {"application/problem+json": {}}}  # fmt: skip


router = APIRouter(
    responses={
        400: _problem("Malformed JSON"),
        404: _problem("No such record"),
        403: _problem("The caller (forwarded by the gateway) may not touch this deal"),
        409: _problem("Version conflict (stale If-Match / expected_version) or already exists"),
        413: _problem("An event would be too large to publish"),
        422: _problem("Invalid input or a business rule refused the command; names the field"),
    }
)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=300)]
# Identifiers must say something: "" or "   " would become a Kafka key or bypass the rules.
Identifier = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
# Contact data as typed by a person; the domain normalises and checks each item.
Phones = Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=10)]
Emails = Annotated[list[Annotated[str, Field(max_length=320)]], Field(max_length=10)]
OptionalText = Annotated[str | None, Field(default=None, max_length=2000)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Accepted(BaseModel):
    """What a command did: the stream it wrote and its version after the write."""

    model_config = ConfigDict(extra="allow")

    id: str
    stream_id: str
    version: int = Field(description="Stream version after the command: read your writes to it")
    event_ids: list[str]
    replayed: bool = Field(False, description="An earlier request with this key answered")


def _runtime(request: Request) -> SalesRuntime:
    runtime: SalesRuntime = request.app.state.sales
    return runtime


async def _run(
    request: Request,
    work: Callable[[UnitOfWork], Awaitable[dict[str, Any]]],
    idempotency_key: str | None,
    correlation_id: str | None,
    response: Response | None = None,
    created: bool = False,
) -> Accepted:
    handler: CommandHandler = _runtime(request).commands
    request_hash = None
    if idempotency_key is not None:
        # A key belongs to one request: the same key on another route or with another body
        # is refused instead of answering with an unrelated result.
        # ... and to one caller: another person's request never answers with this one's.
        caller = request.headers.get("x-actor-id", "")
        idempotency_key = f"{request.method} {request.url.path} {caller} {idempotency_key}"
        request_hash = hashlib.sha256(await request.body()).hexdigest()
    data, replayed = await handler.run(
        work,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        context=CommandContext(correlation_id=correlation_id),
    )
    if response is not None and created and data.get("duplicate"):
        response.status_code = 200  # an existing record answered, nothing was created
    return Accepted(**{**data, "replayed": replayed})


def _state_response(state: Any, version: int) -> Response:
    if not getattr(state, "exists", False):
        raise DomainError("not found", code="not-found")
    body = {"version": version, **dataclasses.asdict(state)}
    return Response(orjson.dumps(body, default=_json_default), media_type="application/json")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


# --------------------------------------------------------------------------- accounts
class RegisterAccountBody(Body):
    name: Text
    kind: AccountKind = "company"
    tax_id: str | None = Field(None, max_length=40, examples=["11.222.333/0001-81"])
    tax_country: str | None = Field(None, min_length=2, max_length=2, examples=["BR"])
    phones: Phones = []
    emails: Emails = []
    address: Address | None = None
    owner_id: Identifier | None = None


RECORD_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The record as its events made it, with the stream `version` to send "
        "back as `If-Match`",
        "content": {"application/json": {"schema": {
            "type": "object", "required": ["version", "exists"],
            "properties": {"version": {"type": "integer", "minimum": 1},
                           "exists": {"type": "boolean", "const": True}},
            "additionalProperties": True,
        }}},
    }
}  # fmt: skip

DUPLICATE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"model": Accepted, "description": "A duplicate: the existing record answers "
          "(`duplicate: true`, `matched_on`), nothing is created"},
}  # fmt: skip


@router.post("/accounts", status_code=201, response_model=Accepted, tags=["customers"],
             responses=DUPLICATE_ANSWER)  # fmt: skip
async def register_account(
    body: RegisterAccountBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Register a company, organisation or group. A duplicate (same tax id, e-mail or phone)
    answers 200 with the existing record and `duplicate: true`."""
    region = _region(body.address, body.tax_country)
    command = account.RegisterAccount(
        uuid4(), body.name, body.kind, body.tax_id, body.tax_country, tuple(body.phones),
        tuple(body.emails), body.address, body.owner_id, region,
    )  # fmt: skip

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        return await customers.register_account(uow, command)

    return await _run(request, work, idempotency_key, correlation_id, response, created=True)


def _region(address: Address | None, country: str | None) -> str:
    return ((address.country if address else None) or country or "BR").upper()


class MergeBody(Body):
    survivor_id: UUID
    reason: OptionalText = None
    merged_by: str | None = Field(None, max_length=200)


@router.post("/accounts/{account_id}/merge", response_model=Accepted, tags=["customers"])
async def merge_account(
    account_id: UUID,
    body: MergeBody,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Merge this account into the survivor, leaving a trail (`RecordsMerged`)."""

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        return await customers.merge(
            uow, "account", account_id, body.survivor_id, body.reason, body.merged_by
        )

    return await _run(request, work, idempotency_key, correlation_id)


@router.get("/accounts/{account_id}", tags=["customers"], responses=RECORD_ANSWER)
async def get_account(account_id: UUID, request: Request) -> Response:
    return _state_response(
        *await _runtime(request).load(account.decider, account.stream_id(account_id))
    )


# --------------------------------------------------------------------------- contacts
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


@router.post("/contacts", status_code=201, response_model=Accepted, tags=["customers"],
             responses=DUPLICATE_ANSWER)  # fmt: skip
async def register_contact(
    body: RegisterContactBody,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Register a person, optionally linked to an account. Duplicates answer 200."""
    command = contact.RegisterContact(
        uuid4(), body.first_name, body.last_name, body.account_id, body.job_title, body.tax_id,
        body.tax_country, tuple(body.phones), tuple(body.emails), body.address, body.owner_id,
        _region(body.address, body.tax_country),
    )  # fmt: skip

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        return await customers.register_contact(uow, command)

    return await _run(request, work, idempotency_key, correlation_id, response, created=True)


@router.post("/contacts/{contact_id}/merge", response_model=Accepted, tags=["customers"])
async def merge_contact(
    contact_id: UUID,
    body: MergeBody,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    async def work(uow: UnitOfWork) -> dict[str, Any]:
        return await customers.merge(
            uow, "contact", contact_id, body.survivor_id, body.reason, body.merged_by
        )

    return await _run(request, work, idempotency_key, correlation_id)


@router.get("/contacts/{contact_id}", tags=["customers"], responses=RECORD_ANSWER)
async def get_contact(contact_id: UUID, request: Request) -> Response:
    return _state_response(
        *await _runtime(request).load(contact.decider, contact.stream_id(contact_id))
    )


# ------------------------------------------------------------------------------ leads
class CaptureLeadBody(Body):
    source: LeadSource
    name: Annotated[str, Field(min_length=1, max_length=240)]
    company: str | None = Field(None, max_length=300)
    emails: Emails = []
    phones: Phones = []
    address: Address | None = None
    notes: str | None = Field(None, max_length=5000)
    owner_id: Identifier | None = None


@router.post("/leads", status_code=201, response_model=Accepted, tags=["leads"])
async def capture_lead(
    body: CaptureLeadBody,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Accepted:
    """Capture a prospect from a web form, an event, an import or a referral. Without an
    owner, the assignment rules choose one (territory, then round-robin)."""
    runtime = _runtime(request)
    lead_id = uuid4()
    owner = body.owner_id
    if owner is None:
        country = body.address.country if body.address else None
        state = body.address.state if body.address else None
        async with runtime.pool.acquire() as conn:
            owner = (await runtime.rules.choose(conn, country, state)).owner_id
    command = lead.CaptureLead(
        lead_id, body.source, body.name, body.company, tuple(body.emails), tuple(body.phones),
        body.address, body.notes, owner, _region(body.address, None),
    )  # fmt: skip

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        result = await uow.execute(lead.decider, lead.stream_id(lead_id), command)
        return {"id": str(lead_id), "owner_id": owner, **result.as_json()}

    return await _run(request, work, idempotency_key, correlation_id)


class QualifyBody(Body):
    qualified_by: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=5000)


class DisqualifyBody(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class OpportunityDraft(Body):
    title: Text
    amount: Money
    expected_close: date | None = None


class ConvertBody(Body):
    opportunity: OpportunityDraft | None = None


def _single(
    request: Request,
    decider: Any,
    stream_id: str,
    command: Any,
    entity_id: UUID,
    idempotency_key: str | None,
    correlation_id: str | None,
    expected_version: int | None = None,
    check: Callable[[Any], None] | None = None,
    before: Callable[[UnitOfWork], Awaitable[int | None]] | None = None,
) -> Awaitable[Accepted]:
    """One command on one stream; ``before`` runs first in the same transaction (a lock,
    a check of another record). If it read the stream to decide, it returns the version
    it read: the command is then appended at that version or not at all (a writer in
    between makes it a conflict, and the whole command runs again)."""
    if expected_version is None:
        expected_version = _if_match(request)

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        expected = expected_version
        if before is not None:
            checked = await before(uow)
            if checked is not None:
                if expected is not None and expected != checked:
                    raise WrongExpectedVersion(stream_id, expected, checked)
                expected = checked
        result = await uow.execute(decider, stream_id, command, expected, check)
        return {"id": str(entity_id), **result.as_json()}

    return _run(request, work, idempotency_key, correlation_id)


def _actor(request: Request) -> Actor | None:
    """The person the gateway vouches for (see services.sales.application.access)."""
    role = request.headers.get("x-actor-role")
    if not role:
        return None
    # The gateway percent-encodes the values (names need not be Latin-1).
    team = request.headers.get("x-actor-team")
    return Actor(
        unquote(request.headers.get("x-actor-id", "")), unquote(role),
        unquote(team) if team else None,
    )  # fmt: skip


def _deal_check(request: Request) -> Callable[[Any], None] | None:
    return deal_check(_actor(request), _runtime(request).rules)


def _if_match(request: Request) -> int | None:
    """``If-Match: <version>`` on any single-record command: optimistic concurrency (409)."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip().strip('"').removeprefix("W/").strip('"')
    if not value.isdigit():
        raise DomainError("If-Match must be the stream version you read", field="If-Match")
    return int(value)


@router.post("/leads/{lead_id}/qualify", response_model=Accepted, tags=["leads"])
async def qualify_lead(
    lead_id: UUID, body: QualifyBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    command = lead.QualifyLead(lead_id, body.qualified_by, body.notes)
    return await _single(
        request, lead.decider, lead.stream_id(lead_id), command, lead_id,
        idempotency_key, correlation_id,
    )  # fmt: skip


@router.post("/leads/{lead_id}/disqualify", response_model=Accepted, tags=["leads"])
async def disqualify_lead(
    lead_id: UUID, body: DisqualifyBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    command = lead.DisqualifyLead(lead_id, body.reason)
    return await _single(
        request, lead.decider, lead.stream_id(lead_id), command, lead_id,
        idempotency_key, correlation_id,
    )  # fmt: skip


@router.post("/leads/{lead_id}/convert", response_model=Accepted, tags=["leads"])
async def convert_lead(
    lead_id: UUID, body: ConvertBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    """Convert a qualified lead into account (when it names a company) + contact +
    opportunity, all in one transaction."""
    runtime = _runtime(request)
    draft = body.opportunity

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        opener = None
        if draft is not None:

            async def opener(customer_id: str, opportunity_id: UUID, owner: str | None) -> Any:
                command = opp.OpenOpportunity(
                    opportunity_id, customer_id, draft.title, draft.amount, owner,
                    draft.expected_close, lead_id=lead_id, pipeline=runtime.pipeline,
                )  # fmt: skip
                return await deals.open_opportunity(uow, runtime.rules, command)

        return await customers.convert_lead(uow, lead_id, opener)

    return await _run(request, work, idempotency_key, correlation_id)


@router.get("/leads/{lead_id}", tags=["leads"], responses=RECORD_ANSWER)
async def get_lead(lead_id: UUID, request: Request) -> Response:
    return _state_response(*await _runtime(request).load(lead.decider, lead.stream_id(lead_id)))


# ---------------------------------------------------------------------- opportunities
class OpenOpportunityBody(Body):
    customer_id: Identifier
    title: Text
    amount: Money
    owner_id: Identifier | None = None
    expected_close: date | None = None


@router.post("/opportunities", status_code=201, response_model=Accepted, tags=["opportunities"])
async def open_opportunity(
    body: OpenOpportunityBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    """Open a deal in the pipeline's first stage; without an owner the assignment rules
    pick one by the customer's territory, then round-robin."""
    runtime = _runtime(request)
    actor = _actor(request)
    owner_id = owner_of_new_deal(actor, body.owner_id, runtime.rules)
    assignment = None
    if owner_id is None:
        team = actor.team if actor is not None and actor.role == SALES_MANAGER else None
        if team is not None and team not in {t.name for t in runtime.rules.teams}:
            raise DomainError("your team sells nothing: name the owner", field="owner_id",
                              code="forbidden-team")  # fmt: skip
        assignment = await deals.choose_owner(runtime.pool, runtime.rules, body.customer_id, team)
    command = opp.OpenOpportunity(
        uuid4(), body.customer_id, body.title, body.amount, owner_id, body.expected_close,
        assignment=assignment, pipeline=runtime.pipeline,
    )  # fmt: skip

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        return await deals.open_opportunity(uow, runtime.rules, command)

    return await _run(request, work, idempotency_key, correlation_id)


class ChangeStageBody(Body):
    to_stage: PipelineStage
    reason: OptionalText = None
    lost_reason: LostReason | None = Field(None, description="Required when to_stage is lost")
    competitor: str | None = Field(None, max_length=200)
    expected_version: int | None = Field(None, ge=0)


@router.post("/opportunities/{opportunity_id}/stage", response_model=Accepted,
             tags=["opportunities"])  # fmt: skip
async def change_stage(
    opportunity_id: UUID, body: ChangeStageBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    """Move the deal; `lost` needs `lost_reason` (catalogue) and `reason` (free text); no
    move out of won or lost without a reopen. A stale `expected_version` answers 409."""
    command = opp.ChangeDealStage(
        opportunity_id, body.to_stage, body.reason, body.lost_reason, body.competitor,
        pipeline=_runtime(request).pipeline,
    )  # fmt: skip
    return await _single(
        request, opp.opportunity, opp.stream_id(opportunity_id), command, opportunity_id,
        idempotency_key, correlation_id, body.expected_version, _deal_check(request),
    )  # fmt: skip


class ReopenBody(Body):
    to_stage: PipelineStage
    reason: OptionalText = None


@router.post("/opportunities/{opportunity_id}/reopen", response_model=Accepted,
             tags=["opportunities"])  # fmt: skip
async def reopen(
    opportunity_id: UUID, body: ReopenBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    command = opp.ReopenOpportunity(
        opportunity_id, body.to_stage, body.reason, pipeline=_runtime(request).pipeline
    )
    return await _single(
        request, opp.opportunity, opp.stream_id(opportunity_id), command, opportunity_id,
        idempotency_key, correlation_id, None, _deal_check(request),
    )  # fmt: skip


class AssignBody(Body):
    owner_id: Identifier


@router.post("/opportunities/{opportunity_id}/assign", response_model=Accepted,
             tags=["opportunities"])  # fmt: skip
async def reassign(
    opportunity_id: UUID, body: AssignBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    """Manual reassignment to another seller."""
    check_new_owner(_actor(request), body.owner_id, _runtime(request).rules)
    command = opp.AssignOpportunity(opportunity_id, body.owner_id, "manual")

    async def hold_owner(uow: UnitOfWork) -> None:
        await lock_deal_owner(uow.conn, opportunity_id, shared=False)

    return await _single(
        request, opp.opportunity, opp.stream_id(opportunity_id), command, opportunity_id,
        idempotency_key, correlation_id, None, _deal_check(request), hold_owner,
    )  # fmt: skip


@router.get("/opportunities/{opportunity_id}", tags=["opportunities"], responses=RECORD_ANSWER)
async def get_opportunity(opportunity_id: UUID, request: Request) -> Response:
    state, version = await _runtime(request).load(opp.opportunity, opp.stream_id(opportunity_id))
    check = _deal_check(request)
    if check is not None:
        check(state)
    return _state_response(state, version)


@router.get("/pipeline", tags=["opportunities"])
async def pipeline(request: Request) -> dict[str, str]:
    """Stages in order with their win probability (percent)."""
    return {k: str(v) for k, v in _runtime(request).pipeline.probabilities.items()}


# ----------------------------------------------------------------------------- quotes
class QuoteItemBody(Body):
    product_id: Annotated[str, Field(min_length=1, max_length=100)]
    quantity: Decimal = Field(gt=0, max_digits=14, decimal_places=4)
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100, max_digits=7, decimal_places=4)


class IssueQuoteBody(Body):
    customer_id: Identifier
    price_list: Annotated[str, Field(min_length=1, max_length=100)]
    items: list[QuoteItemBody] = Field(min_length=1, max_length=200)
    opportunity_id: UUID | None = None
    valid_until: date | None = None


def _issue(request: Request, quote_id: UUID, body: IssueQuoteBody) -> quote.IssueQuote:
    runtime = _runtime(request)
    return quote.IssueQuote(
        quote_id, body.customer_id, body.price_list,
        [QuoteItem(i.product_id, i.quantity, i.discount_percent) for i in body.items],
        runtime.catalogue, runtime.approval_threshold_percent, body.opportunity_id,
        body.valid_until,
    )  # fmt: skip


async def _check_quote_deal(request: Request, quote_id: UUID) -> None:
    """A quote on a deal belongs to the deal's team: the check for reading a quote."""
    check = _deal_check(request)
    if check is None:
        return
    runtime = _runtime(request)
    state, _ = await runtime.load(quote.decider, quote.stream_id(quote_id))
    if state.exists and state.opportunity_id is not None:
        deal, _ = await runtime.load(opp.opportunity, opp.stream_id(state.opportunity_id))
        check(deal)


async def _check_deal_in(uow: UnitOfWork, request: Request, opportunity_id: UUID) -> Any:
    """The deal as it stands in this transaction, its owner held still, checked against
    the caller's team (see ``lock_deal_owner``)."""
    check = _deal_check(request)
    if check is not None:
        await lock_deal_owner(uow.conn, opportunity_id, shared=True)
    deal, _ = await uow.load(opp.opportunity, opp.stream_id(opportunity_id))
    if check is not None:
        check(deal)  # nothing on another team's deal
    return deal


def _quote_deal_guard(
    request: Request, quote_id: UUID
) -> Callable[[UnitOfWork], Awaitable[int | None]]:
    """For a command on a quote: the check of the quote's deal, inside its transaction;
    the quote's version it checked (see ``_single``)."""

    async def guard(uow: UnitOfWork) -> int | None:
        if _deal_check(request) is None:
            return None
        state, version = await uow.load(quote.decider, quote.stream_id(quote_id))
        if state.exists and state.opportunity_id is not None:
            await _check_deal_in(uow, request, state.opportunity_id)
        return version

    return guard


async def _issue_version(
    request: Request,
    quote_id: UUID,
    body: IssueQuoteBody,
    idempotency_key: str | None,
    correlation_id: str | None,
) -> Accepted:
    command = _issue(request, quote_id, body)

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        # A revision: the quote's own deal, at the version checked.
        checked = await _quote_deal_guard(request, quote_id)(uow)
        if body.opportunity_id is not None:
            deal = await _check_deal_in(uow, request, body.opportunity_id)
            if not deal.exists or deal.customer_id != body.customer_id:
                raise DomainError(
                    "no such opportunity for this customer",
                    field="opportunity_id",
                    code="unknown-opportunity",
                )
        result = await uow.execute(quote.decider, quote.stream_id(quote_id), command, checked)
        return {"id": str(quote_id), **result.as_json()}

    return await _run(request, work, idempotency_key, correlation_id)


@router.post("/quotes", status_code=201, response_model=Accepted, tags=["quotes"])
async def issue_quote(
    body: IssueQuoteBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    """Price the items from the catalogue's price list. A discount above the configured
    threshold needs an approval before the quote can be sent or accepted."""
    return await _issue_version(request, uuid4(), body, idempotency_key, correlation_id)


@router.post("/quotes/{quote_id}/revisions", response_model=Accepted, tags=["quotes"])
async def revise_quote(
    quote_id: UUID, body: IssueQuoteBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    """A revised quote: a new version of the same quote."""
    runtime = _runtime(request)
    state, _ = await runtime.load(quote.decider, quote.stream_id(quote_id))
    if not state.exists:
        raise DomainError("no such quote", code="not-found")
    return await _issue_version(request, quote_id, body, idempotency_key, correlation_id)


class ApproveBody(Body):
    approved_by: Annotated[str, Field(min_length=1, max_length=200)]


@router.post("/quotes/{quote_id}/approve", response_model=Accepted, tags=["quotes"])
async def approve_quote(
    quote_id: UUID, body: ApproveBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    return await _single(
        request, quote.decider, quote.stream_id(quote_id),
        quote.ApproveQuote(quote_id, body.approved_by), quote_id, idempotency_key, correlation_id,
        before=_quote_deal_guard(request, quote_id),
    )  # fmt: skip


@router.post("/quotes/{quote_id}/accept", response_model=Accepted, tags=["quotes"])
async def accept_quote(
    quote_id: UUID, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    return await _single(
        request, quote.decider, quote.stream_id(quote_id), quote.AcceptQuote(quote_id),
        quote_id, idempotency_key, correlation_id, before=_quote_deal_guard(request, quote_id),
    )  # fmt: skip


@router.get("/quotes/{quote_id}", tags=["quotes"], responses=RECORD_ANSWER)
async def get_quote(quote_id: UUID, request: Request) -> Response:
    await _check_quote_deal(request, quote_id)
    return _state_response(*await _runtime(request).load(quote.decider, quote.stream_id(quote_id)))


@router.get(
    "/quotes/{quote_id}/proposal.pdf",
    tags=["quotes"],
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def proposal(quote_id: UUID, request: Request) -> Response:
    """The proposal document of the latest version; only once it may be sent."""
    await _check_quote_deal(request, quote_id)
    runtime = _runtime(request)
    state, _ = await runtime.load(quote.decider, quote.stream_id(quote_id))
    if not state.exists:
        raise DomainError("no such quote", code="not-found")
    if not quote.can_send(state):
        raise DomainError(
            "the quote needs an approval before it can be sent", code="approval-required"
        )
    pdf = runtime.render_proposal(state, await runtime.customer_name(state.customer_id))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": (
                f'attachment; filename="proposal-{quote_id}-v{state.version}.pdf"'
            )
        },
    )


@router.get("/catalogue", tags=["quotes"])
async def catalogue(request: Request) -> Response:
    """Products and price lists."""
    return Response(
        orjson.dumps(_runtime(request).catalogue, default=_json_default),
        media_type="application/json",
    )


# ----------------------------------------------------------------------------- orders
class PlaceOrderBody(Body):
    customer_id: Identifier | None = None
    quote_id: UUID | None = Field(None, description="An accepted quote becomes the order")
    lines: list[OrderLine] = Field([], max_length=200)
    channel: Annotated[str, Field(max_length=50)] = "direct"
    opportunity_id: UUID | None = None


@router.post("/orders", status_code=201, response_model=Accepted, tags=["orders"])
async def place_order(
    body: PlaceOrderBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    """From an accepted quote (`quote_id`) or a direct sale (`customer_id` + `lines`).
    Emits order placed and purchase made. A quote becomes at most one order: its order id
    is derived from the quote's, so a second attempt is a conflict, not a second sale."""
    order_id = uuid5(ORDER_FROM_QUOTE, str(body.quote_id)) if body.quote_id else uuid4()

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        if body.quote_id is not None:
            accepted, _ = await uow.load(quote.decider, quote.stream_id(body.quote_id))
            if not accepted.exists:
                raise DomainError("no such quote", field="quote_id", code="unknown-quote")
            if not accepted.accepted:
                raise DomainError("only an accepted quote becomes an order", field="quote_id",
                                  code="not-accepted")  # fmt: skip
            if accepted.opportunity_id is not None:
                await _check_deal_in(uow, request, accepted.opportunity_id)  # the deal's team
            command = order.place_order_from_quote(order_id, accepted, body.channel)
        else:
            if body.customer_id is None or not body.lines:
                raise DomainError("a direct sale needs customer_id and lines", field="lines")
            if body.opportunity_id is not None:
                await _check_deal_in(uow, request, body.opportunity_id)  # the deal's team
            command = order.PlaceOrder(order_id, body.customer_id, body.lines, body.channel,
                                       opportunity_id=body.opportunity_id)  # fmt: skip
        result = await uow.execute(order.decider, order.stream_id(order_id), command)
        return {"id": str(order_id), **result.as_json()}

    return await _run(request, work, idempotency_key, correlation_id)


class ReasonBody(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class ReturnBody(ReasonBody):
    defective: bool = False


@router.post("/orders/{order_id}/deliver", response_model=Accepted, tags=["orders"])
async def deliver_order(
    order_id: UUID, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    command = order.DeliverOrder(order_id)
    return await _single(request, order.decider, order.stream_id(order_id), command, order_id,
                         idempotency_key, correlation_id)  # fmt: skip


@router.post("/orders/{order_id}/cancel", response_model=Accepted, tags=["orders"])
async def cancel_order(
    order_id: UUID, body: ReasonBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    return await _single(request, order.decider, order.stream_id(order_id),
                         order.CancelOrder(order_id, body.reason), order_id, idempotency_key,
                         correlation_id)  # fmt: skip


@router.post("/orders/{order_id}/return", response_model=Accepted, tags=["orders"])
async def return_order(
    order_id: UUID, body: ReturnBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    return await _single(request, order.decider, order.stream_id(order_id),
                         order.ReturnOrder(order_id, body.reason, body.defective), order_id,
                         idempotency_key, correlation_id)  # fmt: skip


@router.get("/orders/{order_id}", tags=["orders"], responses=RECORD_ANSWER)
async def get_order(order_id: UUID, request: Request) -> Response:
    return _state_response(*await _runtime(request).load(order.decider, order.stream_id(order_id)))


# ------------------------------------------------------------ activities & follow-ups
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


@router.post("/activities", status_code=201, response_model=Accepted, tags=["activities"])
async def log_activity(
    body: LogActivityBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    """Log a call, meeting, task, note or e-mail against a customer (and optionally an
    account, contact or opportunity)."""
    activity_id = uuid4()
    command = act.LogActivity(
        activity_id, body.customer_id, body.kind, body.subject,
        body.happened_at or datetime.now(UTC), body.notes, body.outcome, body.duration_minutes,
        body.actor_id, body.related,
    )  # fmt: skip
    return await _single(request, act.activity_decider, act.activity_stream_id(activity_id),
                         command, activity_id, idempotency_key, correlation_id)  # fmt: skip


class ScheduleFollowUpBody(Body):
    customer_id: Identifier
    owner_id: Identifier
    subject: Text
    due_at: AwareDatetime
    channel: Literal["email", "messaging", "in_app"] = "in_app"
    related: RelatedTo = RelatedTo()


@router.post("/follow-ups", status_code=201, response_model=Accepted, tags=["activities"])
async def schedule_follow_up(
    body: ScheduleFollowUpBody, request: Request,
    idempotency_key: IdempotencyKey = None, correlation_id: CorrelationId = None,
) -> Accepted:  # fmt: skip
    """Remind the owner to call back, meet, clarify or close: a `follow_up_due` event is
    emitted exactly once when `due_at` passes."""
    follow_up_id = uuid4()
    command = act.ScheduleFollowUp(
        follow_up_id, body.customer_id, body.owner_id, body.subject, body.due_at,
        datetime.now(UTC), body.channel, body.related,
    )  # fmt: skip

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        stream = act.follow_up_stream_id(follow_up_id)
        result = await uow.execute(act.follow_up_decider, stream, command)
        await uow.conn.execute(
            "INSERT INTO follow_up_timers (follow_up_id, due_at) VALUES ($1, $2) "
            "ON CONFLICT DO NOTHING",
            follow_up_id,
            body.due_at,
        )
        return {"id": str(follow_up_id), **result.as_json()}

    return await _run(request, work, idempotency_key, correlation_id)


@router.get("/follow-ups/{follow_up_id}", tags=["activities"], responses=RECORD_ANSWER)
async def get_follow_up(follow_up_id: UUID, request: Request) -> Response:
    return _state_response(
        *await _runtime(request).load(act.follow_up_decider, act.follow_up_stream_id(follow_up_id))
    )


def create_app(runtime: SalesRuntime | None = None) -> FastAPI:
    from services.platform.problems import install_problem_handlers

    app = FastAPI(
        title="CRM sales service",
        version="0.2.0",
        description="Accounts, contacts, leads, opportunities, quotes, orders, activities.",
    )
    install_problem_handlers(app)
    app.include_router(router)
    if runtime is not None:
        app.state.sales = runtime
    return app
