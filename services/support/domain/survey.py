"""The satisfaction survey aggregate: asked when a case is solved, answered at most once.

Lifecycle: requested → rated. A survey not rated within its validity period (the command
carries it, from ``config/satisfaction.json``) is expired: it takes no rating. Expiry is
derived from the request's time rather than recorded, so no timer has to fire for it.

A survey's id is derived from its case and how many times that case was solved
(``survey_id``): the handler that solves a case twice for the same cause (a retried
request, a problem solved again) derives the same id and requests nothing new, while a
case reopened and solved again gets a fresh survey.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID, uuid5

from contracts.events.support_quality import Locale, SatisfactionRated, SatisfactionSurveyRequested
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError
from services.support.domain.csat import CsatScale, is_satisfied

# Fixed for ever: changing it would give a retried solve a second survey.
SURVEY_NAMESPACE = UUID("5b0f8a4e-2d53-4c1e-9a57-3f4c2b8e6d10")
COMMENT_MAX = 5000


def survey_id(case_id: UUID, solve_count: int) -> UUID:
    """The survey of the ``solve_count``-th solving of a case (1 for the first)."""
    return uuid5(SURVEY_NAMESPACE, f"{case_id}/{solve_count}")


@dataclass(frozen=True)
class RequestSurvey:
    survey_id: UUID
    case_id: UUID
    customer_id: str
    scale: CsatScale
    at: datetime
    team: str = ""
    agent_id: str | None = None
    category: str = ""
    locale: Locale = "pt-BR"


@dataclass(frozen=True)
class RateSurvey:
    survey_id: UUID
    score: int
    at: datetime
    valid_for: timedelta
    satisfied_from: int
    """Of the scale in force: the survey keeps the bounds it was asked with."""
    comment: str = ""


Command = RequestSurvey | RateSurvey


@dataclass(frozen=True)
class Survey:
    exists: bool = False
    case_id: UUID | None = None
    customer_id: str = ""
    scale_low: int = 1
    scale_high: int = 5
    team: str = ""
    agent_id: str | None = None
    category: str = ""
    requested_at: datetime | None = None
    score: int | None = None
    satisfied: bool | None = None
    rated_at: datetime | None = None

    @property
    def rated(self) -> bool:
        return self.score is not None

    def expires_at(self, valid_for: timedelta) -> datetime | None:
        return self.requested_at + valid_for if self.requested_at else None


def _decide_request(command: RequestSurvey, state: Survey) -> Sequence[DomainEvent]:
    if state.exists:
        return []  # the same solve asked again: one survey
    return [SatisfactionSurveyRequested(
        case_id=command.case_id, customer_id=command.customer_id, survey_id=command.survey_id,
        scale_low=command.scale.low, scale_high=command.scale.high, team=command.team,
        agent_id=command.agent_id, category=command.category, locale=command.locale,
        requested_at=command.at,
    )]  # fmt: skip


def _scale_of(state: Survey, satisfied_from: int) -> CsatScale:
    # The customer answered the scale they were shown; if the configuration moved since,
    # its satisfied threshold is kept within that scale rather than refusing the answer.
    threshold = min(max(satisfied_from, state.scale_low), state.scale_high)
    return CsatScale(state.scale_low, state.scale_high, threshold)


def _decide_rate(command: RateSurvey, state: Survey) -> Sequence[DomainEvent]:
    if not state.exists:
        raise DomainError("no such survey", code="not-found")
    if state.rated:
        raise DomainError("the survey was already answered", code="already-exists")
    expires_at = state.expires_at(command.valid_for)
    assert expires_at is not None and state.case_id is not None
    if command.at > expires_at:
        raise DomainError("the survey has expired", code="survey-expired")
    scale = _scale_of(state, command.satisfied_from)
    try:
        satisfied = is_satisfied(scale, command.score)
    except ValueError as error:
        raise DomainError(str(error), field="score") from error
    comment = command.comment.strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(f"comment is longer than {COMMENT_MAX} characters", field="comment")
    return [SatisfactionRated(
        case_id=state.case_id, customer_id=state.customer_id, survey_id=command.survey_id,
        score=command.score, scale_low=scale.low, scale_high=scale.high, satisfied=satisfied,
        comment=comment, team=state.team, agent_id=state.agent_id, category=state.category,
        rated_at=command.at,
    )]  # fmt: skip


def decide(command: Command, state: Survey) -> Sequence[DomainEvent]:
    match command:
        case RequestSurvey():
            return _decide_request(command, state)
        case RateSurvey():
            return _decide_rate(command, state)
    raise TypeError(f"unknown command {command!r}")


def evolve(state: Survey, event: DomainEvent) -> Survey:
    match event:
        case SatisfactionSurveyRequested():
            return Survey(
                exists=True, case_id=event.case_id, customer_id=event.customer_id,
                scale_low=event.scale_low, scale_high=event.scale_high, team=event.team,
                agent_id=event.agent_id, category=event.category,
                requested_at=event.requested_at,
            )  # fmt: skip
        case SatisfactionRated():
            return replace(state, score=event.score, satisfied=event.satisfied,
                           rated_at=event.rated_at)  # fmt: skip
    return state


decider = Decider(decide=decide, evolve=evolve, initial_state=Survey())


def stream_id(survey_id: UUID) -> str:
    return f"survey-{survey_id}"
