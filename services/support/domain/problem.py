"""The problem aggregate (ITIL problem management): the cause behind many incidents.

Cases link themselves to a problem (``case.LinkToProblem``, on the case's stream); the
service keeps the list of each problem's incidents beside the link, and solving the
problem solves each open one with a trail (``CaseSolved.via_problem_id``). A problem
names no customer and holds no personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from contracts.events.support_quality import ProblemOpened, ProblemSolved
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError


@dataclass(frozen=True)
class OpenProblem:
    problem_id: UUID
    headline: str
    at: datetime
    summary: str = ""
    category: str | None = None
    product_id: str | None = None
    opened_by: str | None = None
    recurring_group_id: str | None = None


@dataclass(frozen=True)
class SolveProblem:
    problem_id: UUID
    resolution: str
    at: datetime
    solved_by: str | None = None
    incident_ids: tuple[UUID, ...] = ()


Command = OpenProblem | SolveProblem


@dataclass(frozen=True)
class Problem:
    exists: bool = False
    headline: str = ""
    status: str = "open"


def require_open(state: Problem) -> None:
    """A case may be linked only to a problem that exists and is not solved."""
    if not state.exists:
        raise DomainError("no such problem", code="not-found", field="problem_id")
    if state.status == "solved":
        raise DomainError("the problem is solved: open a new one", code="problem-solved",
                          field="problem_id")  # fmt: skip


def decide(command: Command, state: Problem) -> Sequence[DomainEvent]:
    match command:
        case OpenProblem():
            if state.exists:
                raise DomainError("problem already exists", code="already-exists")
            headline = command.headline.strip()
            if not headline:
                raise DomainError("headline must not be blank", field="headline")
            return [ProblemOpened(
                problem_id=command.problem_id, headline=headline[:300],
                summary=command.summary.strip(), category=command.category,
                product_id=command.product_id, opened_by=command.opened_by,
                recurring_group_id=command.recurring_group_id, opened_at=command.at,
            )]  # fmt: skip
        case SolveProblem():
            if not state.exists:
                raise DomainError("no such problem", code="not-found")
            if state.status == "solved":
                return []
            resolution = command.resolution.strip()
            if not resolution:
                raise DomainError("resolution must not be blank", field="resolution")
            return [ProblemSolved(
                problem_id=command.problem_id, resolution=resolution,
                solved_by=command.solved_by, solved_at=command.at,
                incident_ids=list(command.incident_ids),
            )]  # fmt: skip
    raise TypeError(f"unknown command {command!r}")


def evolve(state: Problem, event: DomainEvent) -> Problem:
    match event:
        case ProblemOpened():
            return Problem(exists=True, headline=event.headline)
        case ProblemSolved():
            return replace(state, status="solved")
    return state


decider = Decider(decide=decide, evolve=evolve, initial_state=Problem())


def stream_id(problem_id: UUID) -> str:
    return f"problem-{problem_id}"
