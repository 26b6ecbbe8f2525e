"""Satisfaction surveys: asked in the transaction that solves a case, answered once by
the customer (or an agent on their behalf), each rating kept in ``survey_ratings``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from contracts.events.support_quality import SatisfactionRated
from services.platform.commands import UnitOfWork
from services.platform.decider import DomainError
from services.support.application.runtime import SupportRuntime
from services.support.domain import survey as sv
from services.support.domain.case import Case


def solve_count(case: Case) -> int:
    """How many times the case was solved: each solving is one SLA ``solved`` fact."""
    return sum(1 for fact in case.sla_history if fact.kind == "solved")


async def request_survey(uow: UnitOfWork, deps: SupportRuntime, case_id: UUID, case: Case
                         ) -> UUID:  # fmt: skip
    """Ask for the satisfaction of the case's latest solving (once per solving)."""
    settings = deps.satisfaction
    survey_id = sv.survey_id(case_id, solve_count(case))
    assert case.solved_at is not None
    command = sv.RequestSurvey(
        survey_id=survey_id, case_id=case_id, customer_id=case.customer_id,
        scale=settings.scale, at=case.solved_at, team=case.team, agent_id=case.assignee_id,
        category=case.category, locale=settings.locale,
    )  # fmt: skip
    await uow.execute(sv.decider, sv.stream_id(survey_id), command)
    return survey_id


@dataclass(frozen=True)
class RateSurvey:
    """A rating as the route received it; ``customer_id`` is set when a customer rates
    (they may rate only their own survey)."""

    survey_id: UUID
    score: int
    comment: str = ""
    customer_id: str | None = None


async def rate_survey(uow: UnitOfWork, command: RateSurvey, deps: SupportRuntime
                      ) -> dict[str, Any]:  # fmt: skip
    settings = deps.satisfaction
    rate = sv.RateSurvey(command.survey_id, command.score, deps.clock(), settings.valid_for,
                         settings.scale.satisfied_from, command.comment)  # fmt: skip

    def own(state: sv.Survey) -> None:
        if state.exists and command.customer_id not in (None, state.customer_id):
            raise DomainError("a customer may answer only their own survey", code="forbidden")

    stream = sv.stream_id(command.survey_id)
    result = await uow.execute(sv.decider, stream, rate, check=own)
    state, _ = await uow.load(sv.decider, stream)
    await uow.conn.execute(
        """
        INSERT INTO survey_ratings (survey_id, case_id, team, agent_id, category, score,
                                    scale_low, scale_high, satisfied, rated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (survey_id) DO NOTHING
        """,
        command.survey_id, state.case_id, state.team, state.agent_id, state.category,
        state.score, state.scale_low, state.scale_high, state.satisfied, state.rated_at,
    )  # fmt: skip
    return {**result.as_json(), "survey_id": str(command.survey_id),
            "satisfied": state.satisfied}  # fmt: skip


async def survey_view(deps: SupportRuntime, survey_id: UUID) -> dict[str, Any]:
    """The survey, its expiry and its answer (the comment opened with the customer's key)."""
    history = await deps.store.read_stream(sv.stream_id(survey_id))
    if not history:
        raise DomainError("no such survey", code="not-found")
    events = [record.domain_event() for record in history]
    state = sv.decider.fold(events)
    comment = next((e.comment for e in events if isinstance(e, SatisfactionRated)), "")
    expires_at = state.expires_at(deps.satisfaction.valid_for)
    assert expires_at is not None
    status = "rated" if state.rated else "expired" if deps.clock() > expires_at else "requested"
    return {
        "survey_id": str(survey_id), "case_id": str(state.case_id),
        "customer_id": state.customer_id, "status": status,
        "scale": {"low": state.scale_low, "high": state.scale_high},
        "team": state.team, "agent_id": state.agent_id, "category": state.category,
        "requested_at": state.requested_at, "expires_at": expires_at,
        "score": state.score, "satisfied": state.satisfied, "comment": comment,
        "rated_at": state.rated_at,
    }  # fmt: skip
