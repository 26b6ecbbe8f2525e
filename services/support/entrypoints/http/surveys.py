"""Routes of satisfaction: a survey and its one rating, and the SERVQUAL questionnaire
and its answers."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field, StrictInt

from contracts.events.support_quality import Locale
from services.platform.decider import DomainError
from services.support.application import surveys
from services.support.domain import servqual_form as sf
from services.support.domain.servqual import servqual_questionnaire
from services.support.entrypoints.http.common import (
    CUSTOMER_ROLE,
    NO_NUL,
    PROBLEMS,
    Body,
    CorrelationId,
    IdempotencyKey,
    actor,
    json_response,
    require_own,
    runtime,
    send,
)

router = APIRouter(tags=["satisfaction"], responses=PROBLEMS)


class RatingBody(Body):
    score: StrictInt
    comment: str = Field("", max_length=5000)


@router.post("/surveys/{survey_id}/rating")
async def rate(survey_id: UUID, body: RatingBody, request: Request,
               idempotency_key: IdempotencyKey = None,
               correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """The customer's answer (or an agent's on their behalf), once; refused off the
    survey's scale, after it expired, or a second time (409)."""
    who = actor(request)
    customer = who.actor_id if who.role == CUSTOMER_ROLE else None
    command = surveys.RateSurvey(survey_id, body.score, body.comment, customer)
    return await send(request, command, idempotency_key, correlation_id)


@router.get("/surveys/{survey_id}")
async def get_survey(survey_id: UUID, request: Request) -> Response:
    """The survey, its status (requested, rated, expired) and its answer."""
    view = await surveys.survey_view(runtime(request), survey_id)
    require_own(request, view["customer_id"])
    return json_response(view)


@router.get("/servqual/questionnaire")
async def questionnaire(
    locale: Annotated[Locale, Query(description="pt-BR, es or en")] = "pt-BR",
) -> Response:
    """The 22 SERVQUAL statements, each with its dimension, in the locale asked for."""
    try:
        items = servqual_questionnaire(locale)
    except ValueError as error:
        raise DomainError(str(error), field="locale") from error
    return json_response({"locale": locale, "scale": {"low": 1, "high": 7}, "items": items})


Answer = Annotated[StrictInt, Field(ge=1, le=7)]
IN_ORDER = "The 22 items in order, each 1..7"
Answers = Annotated[list[Answer], Field(min_length=22, max_length=22, description=IN_ORDER)]
Points = Annotated[StrictInt, Field(ge=0, le=100)]


class Weights(Body):
    """Importance points over the five dimensions; they must sum to 100."""

    tangibles: Points
    reliability: Points
    responsiveness: Points
    assurance: Points
    empathy: Points


class ServqualBody(Body):
    customer_id: Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
    case_id: UUID | None = None
    team: str | None = Field(None, min_length=1, max_length=100, pattern=NO_NUL)
    expectations: Answers
    perceptions: Answers
    weights: Weights | None = None
    locale: Locale = "pt-BR"


@router.post("/servqual/responses", status_code=201)
async def record_servqual(body: ServqualBody, request: Request,
                          idempotency_key: IdempotencyKey = None,
                          correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """One answered questionnaire (items in order, 1..7); a customer answers for themselves."""
    require_own(request, body.customer_id)
    command = sf.RecordServqual(
        uuid4(), body.customer_id, body.expectations, body.perceptions,
        runtime(request).clock(), body.weights.model_dump() if body.weights else None,
        body.case_id, body.team or "", body.locale,
    )  # fmt: skip
    return await send(request, command, idempotency_key, correlation_id, 201)
