"""Routes of legal holds: place (201), list a subject's, release (audited)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.privacy.application.holds import PlaceHold, list_holds, place, release
from services.privacy.entrypoints.http.common import (
    PROBLEMS,
    CorrelationId,
    actor,
    json_response,
    runtime,
)

router = APIRouter(tags=["legal holds"], responses=PROBLEMS)


class HoldBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000, description="e.g. the lawsuit's number")
    until: AwareDatetime | None = Field(None, description="None: until released")


@router.post("/holds", status_code=201)
async def place_hold(body: HoldBody, request: Request, correlation_id: CorrelationId = None
                     ) -> Response:  # fmt: skip
    """While active, the subject's personal data cannot be erased."""
    command = PlaceHold(body.subject_id, body.reason, body.until, actor(request))
    hold = await place(runtime(request), command, correlation_id)
    return json_response(hold, 201, {"Location": f"/v1/privacy/holds/{hold['id']}"})


@router.get("/holds")
async def holds_of_subject(
    request: Request, subject_id: Annotated[str, Query(min_length=1, max_length=200)]
) -> Response:
    return json_response({"items": await list_holds(runtime(request), subject_id)})


@router.delete("/holds/{hold_id}")
async def release_hold(hold_id: UUID, request: Request, correlation_id: CorrelationId = None
                       ) -> Response:  # fmt: skip
    return json_response(await release(runtime(request), hold_id, actor(request), correlation_id))
