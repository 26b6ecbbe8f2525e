"""Handlers of problems: open one, solve it, and with it each of its open incidents (a
``CaseSolved`` naming the problem on every incident, in the same transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.platform.commands import UnitOfWork
from services.support.application.case_index import open_incidents
from services.support.application.cases import OnCase, act_on_case
from services.support.application.runtime import SupportRuntime
from services.support.domain import case as cs
from services.support.domain import problem as pb


async def open_problem(uow: UnitOfWork, command: pb.OpenProblem, deps: SupportRuntime
                       ) -> dict[str, Any]:  # fmt: skip
    result = await uow.execute(pb.decider, pb.stream_id(command.problem_id), command)
    return {**result.as_json(), "problem_id": str(command.problem_id)}


@dataclass(frozen=True)
class SolveProblem:
    problem_id: UUID
    resolution: str
    solved_by: str | None = None
    expected_version: int | None = None
    """The problem's version the caller read (``If-Match``)."""


async def solve_problem(uow: UnitOfWork, command: SolveProblem, deps: SupportRuntime
                        ) -> dict[str, Any]:  # fmt: skip
    now = deps.clock()
    incidents = await open_incidents(uow.conn, command.problem_id)
    solve = pb.SolveProblem(command.problem_id, command.resolution, now, command.solved_by,
                            tuple(incidents))  # fmt: skip
    result = await uow.execute(pb.decider, pb.stream_id(command.problem_id), solve,
                               command.expected_version)  # fmt: skip
    solved = []
    if result.event_ids:  # solving twice solves no incident twice
        for case_id in incidents:
            await act_on_case(uow, OnCase(cs.SolveCase(
                case_id, command.resolution, now, command.solved_by, command.problem_id,
            )), deps)  # fmt: skip
            solved.append(str(case_id))
    return {**result.as_json(), "problem_id": str(command.problem_id), "solved_cases": solved}
