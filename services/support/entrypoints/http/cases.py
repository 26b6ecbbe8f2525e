"""Routes of cases: open, list, read with the conversation, and work them (assign,
status, messages, escalate, solve, reopen, close, merge, link to a problem)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from contracts.events.support import CaseKind, CaseStatus, Channel, Priority
from services.platform.decider import DomainError
from services.support.application import cases, queries, seller_scope
from services.support.domain import case as cs
from services.support.entrypoints.http.common import (
    CUSTOMER_ROLE,
    NO_NUL,
    PROBLEMS,
    TEXT,
    Body,
    CorrelationId,
    IdempotencyKey,
    actor,
    if_match,
    json_response,
    require_own,
    runtime,
    send,
)

router = APIRouter(tags=["cases"], responses=PROBLEMS)
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT)]


class OpenCaseBody(Body):
    customer_id: Name
    kind: CaseKind = "request"
    channel: Channel = "web"
    subject: Annotated[str, Field(min_length=1, max_length=300, pattern=r"\S")]
    description: str = Field("", max_length=10000)
    category: Annotated[str, Field(min_length=1, max_length=100, pattern=TEXT)] = "general"
    priority: Priority = "normal"
    product_id: str | None = Field(None, min_length=1, max_length=100, pattern=NO_NUL)
    order_id: UUID | None = None
    contact_id: UUID | None = None
    team: str | None = Field(None, min_length=1, max_length=100, pattern=NO_NUL,
                             description="None: the team rules choose")  # fmt: skip


@router.post("/cases", status_code=201)
async def open_case(body: OpenCaseBody, request: Request, idempotency_key: IdempotencyKey = None,
                    correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """A customer's complaint, request, non-conformity or question. The team rules pick
    the team (category, product, tier); the SLA policy in force is recorded on it."""
    require_own(request, body.customer_id)
    case_id = uuid4()
    command = cases.NewCase(
        case_id, body.customer_id, body.kind, body.channel, body.subject, body.description,
        body.category, body.priority, body.product_id, body.order_id, body.contact_id,
        body.team, actor(request).actor_id,
    )  # fmt: skip
    return await send(request, command, idempotency_key, correlation_id, 201,
                      f"/v1/support/cases/{case_id}")  # fmt: skip


@router.get("/cases")
async def list_cases(
    request: Request,
    customer_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    team: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    assignee_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    status: CaseStatus | None = None,
    priority: Priority | None = None,
    problem_id: UUID | None = None,
    order_id: UUID | None = None,
    open_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: UUID | None = None,
) -> Response:
    """Cases, newest first (``after``: the last case id of the previous page)."""
    filters = {"customer_id": customer_id, "team": team, "assignee_id": assignee_id,
               "status": status, "priority": priority, "problem_id": problem_id,
               "order_id": order_id, "open_only": open_only}  # fmt: skip
    if actor(request).role == CUSTOMER_ROLE:
        filters["customer_id"] = actor(request).actor_id
    cursor = str(after) if after else None
    page = await queries.list_cases(runtime(request), filters, limit, cursor, reader=actor(request))
    return json_response(page)


@router.get("/cases/{case_id}")
async def get_case(case_id: UUID, request: Request) -> Response:
    """The case, its SLA clocks and its conversation (internal notes for staff only)."""
    who = actor(request)
    view = await queries.case_view(runtime(request), case_id,
                                   internal=who.role != CUSTOMER_ROLE)  # fmt: skip
    require_own(request, view["customer_id"])
    if not await seller_scope.may_read(runtime(request).pool, who, view["customer_id"]):
        raise DomainError("a seller reads only their customers' cases", code="forbidden")
    return json_response(view, headers={"ETag": f'"{view["version"]}"'})


class AssignBody(Body):
    team: str | None = Field(None, min_length=1, max_length=100, pattern=NO_NUL)
    assignee_id: str | None = Field(None, min_length=1, max_length=200, pattern=NO_NUL)


class StatusBody(Body):
    status: Literal["open", "pending", "on_hold"]
    reason: str | None = Field(None, max_length=2000)


class MessageBody(Body):
    kind: Literal["agent_reply", "customer_reply", "internal_note"] = "agent_reply"
    body: Annotated[str, Field(min_length=1, max_length=50000, pattern=r"\S")]
    channel: Channel = "web"


class EscalateBody(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")]
    team: str | None = Field(None, min_length=1, max_length=100, pattern=NO_NUL)
    priority: Priority | None = None


class SolveBody(Body):
    resolution: Annotated[str, Field(min_length=1, max_length=10000, pattern=r"\S")]


class ReasonBody(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")]


class MergeBody(Body):
    into_case_id: UUID


class LinkBody(Body):
    problem_id: UUID


async def _on_case(request: Request, command: object, key: str | None, correlation: str | None
                   ) -> Response:  # fmt: skip
    return await send(request, cases.OnCase(command, if_match(request)), key, correlation)


@router.post("/cases/{case_id}/assignment")
async def assign(case_id: UUID, body: AssignBody, request: Request,
                 idempotency_key: IdempotencyKey = None,
                 correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Move the case to a team and/or an agent; assigning a new case to an agent opens it."""
    by = actor(request).actor_id
    command = cs.AssignCase(case_id, body.team, body.assignee_id, by, runtime(request).clock())
    return await _on_case(request, command, idempotency_key, correlation_id)


@router.post("/cases/{case_id}/status")
async def change_status(case_id: UUID, body: StatusBody, request: Request,
                        idempotency_key: IdempotencyKey = None,
                        correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """open, pending (waiting on the customer: SLA clocks pause) or on_hold (waiting on a
    third party: they pause too)."""
    command = cs.ChangeStatus(case_id, body.status, runtime(request).clock(),
                              actor(request).actor_id, body.reason)  # fmt: skip
    return await _on_case(request, command, idempotency_key, correlation_id)


@router.post("/cases/{case_id}/messages", status_code=201)
async def add_message(case_id: UUID, body: MessageBody, request: Request,
                      idempotency_key: IdempotencyKey = None,
                      correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """An agent's reply, the customer's reply or an internal note. A customer may only
    add their own reply to their own case."""
    who = actor(request)
    kind = body.kind
    if who.role == CUSTOMER_ROLE:
        view = await queries.case_view(runtime(request), case_id, internal=False)
        require_own(request, view["customer_id"])
        kind = "customer_reply"
    command = cs.AddMessage(case_id, uuid4(), kind, body.body, runtime(request).clock(),
                            who.actor_id, body.channel)  # fmt: skip
    response = await _on_case(request, command, idempotency_key, correlation_id)
    response.status_code = 201
    return response


@router.post("/cases/{case_id}/escalation")
async def escalate(case_id: UUID, body: EscalateBody, request: Request,
                   idempotency_key: IdempotencyKey = None,
                   correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """One level up: to another team and/or a higher priority (never lower)."""
    command = cs.EscalateCase(case_id, body.reason, body.team, body.priority,
                              actor(request).actor_id)  # fmt: skip
    return await _on_case(request, command, idempotency_key, correlation_id)


@router.post("/cases/{case_id}/solution")
async def solve(case_id: UUID, body: SolveBody, request: Request,
                idempotency_key: IdempotencyKey = None,
                correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Solve the case; the customer is asked for their satisfaction."""
    command = cs.SolveCase(case_id, body.resolution, runtime(request).clock(),
                           actor(request).actor_id)  # fmt: skip
    return await _on_case(request, command, idempotency_key, correlation_id)


@router.post("/cases/{case_id}/reopening")
async def reopen(case_id: UUID, body: ReasonBody, request: Request,
                 idempotency_key: IdempotencyKey = None,
                 correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Reopen a solved case within the reopen period (``teams.json``)."""
    command = cs.ReopenCase(case_id, body.reason, runtime(request).clock(),
                            runtime(request).reopen_period, actor(request).actor_id)  # fmt: skip
    return await _on_case(request, command, idempotency_key, correlation_id)


@router.post("/cases/{case_id}/closing")
async def close(case_id: UUID, request: Request, idempotency_key: IdempotencyKey = None,
                correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Close a solved case at once (else it closes when its reopen period ends)."""
    command = cs.CloseCase(case_id, runtime(request).clock(), actor(request).actor_id)
    return await _on_case(request, command, idempotency_key, correlation_id)


@router.post("/cases/{case_id}/merge")
async def merge(case_id: UUID, body: MergeBody, request: Request,
                idempotency_key: IdempotencyKey = None,
                correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Merge this duplicate into another case of the same customer; this one closes."""
    command = cs.MergeInto(case_id, body.into_case_id, runtime(request).clock(),
                           actor(request).actor_id)  # fmt: skip
    return await _on_case(request, command, idempotency_key, correlation_id)


@router.post("/cases/{case_id}/problem")
async def link_problem(case_id: UUID, body: LinkBody, request: Request,
                       idempotency_key: IdempotencyKey = None,
                       correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Link the incident to its problem: solving the problem solves it."""
    command = cs.LinkToProblem(case_id, body.problem_id, runtime(request).clock(),
                               actor(request).actor_id)  # fmt: skip
    return await _on_case(request, command, idempotency_key, correlation_id)
