"""Routes of problems: open one, read it with its incidents, solve it (and them)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.events.support_quality import ProblemOpened, ProblemSolved
from services.platform.decider import DomainError
from services.support.application.problems import SolveProblem
from services.support.domain import problem as pb
from services.support.entrypoints.http.common import (
    NO_NUL,
    PROBLEMS,
    TEXT,
    CorrelationId,
    IdempotencyKey,
    actor,
    if_match,
    json_response,
    runtime,
    send,
)

router = APIRouter(tags=["problems"], responses=PROBLEMS)


class OpenProblemBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    headline: Annotated[str, Field(min_length=1, max_length=300, pattern=TEXT)]
    summary: str = Field("", max_length=10000, pattern=NO_NUL)
    category: str | None = Field(None, min_length=1, max_length=100, pattern=NO_NUL)
    product_id: str | None = Field(None, min_length=1, max_length=100, pattern=NO_NUL)


class SolveProblemBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Annotated[str, Field(min_length=1, max_length=10000, pattern=TEXT)]


@router.post("/problems", status_code=201)
async def open_problem(body: OpenProblemBody, request: Request,
                       idempotency_key: IdempotencyKey = None,
                       correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """The cause behind many incidents; link cases to it, then solve it once."""
    problem_id = uuid4()
    command = pb.OpenProblem(problem_id, body.headline, runtime(request).clock(), body.summary,
                             body.category, body.product_id, actor(request).actor_id)  # fmt: skip
    return await send(request, command, idempotency_key, correlation_id, 201,
                      f"/v1/support/problems/{problem_id}")  # fmt: skip


@router.get("/problems/{problem_id}")
async def get_problem(problem_id: UUID, request: Request) -> Response:
    deps = runtime(request)
    history = await deps.store.read_stream(pb.stream_id(problem_id))
    if not history:
        raise DomainError("no such problem", code="not-found")
    events = [r.domain_event() for r in history]
    opened = next(e for e in events if isinstance(e, ProblemOpened))
    solved = next((e for e in events if isinstance(e, ProblemSolved)), None)
    incidents = await deps.pool.fetch(
        "SELECT i.case_id, c.status FROM problem_incidents i JOIN cases c USING (case_id) "
        "WHERE i.problem_id = $1 ORDER BY i.linked_at", problem_id,
    )  # fmt: skip
    return json_response({
        "problem_id": str(problem_id), "version": history[-1].stream_version,
        "headline": opened.headline, "summary": opened.summary, "category": opened.category,
        "product_id": opened.product_id, "status": "solved" if solved else "open",
        "resolution": solved.resolution if solved else None,
        "recurring_group_id": opened.recurring_group_id,
        "incidents": [{"case_id": str(r["case_id"]), "status": r["status"]} for r in incidents],
    })  # fmt: skip


@router.post("/problems/{problem_id}/solution")
async def solve_problem(problem_id: UUID, body: SolveProblemBody, request: Request,
                        idempotency_key: IdempotencyKey = None,
                        correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Solve the problem and, with the same resolution, each of its open incidents."""
    command = SolveProblem(problem_id, body.resolution, actor(request).actor_id,
                           if_match(request))  # fmt: skip
    return await send(request, command, idempotency_key, correlation_id)
