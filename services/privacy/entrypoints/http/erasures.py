"""Routes of erasures: request one (202), follow its progress, list a subject's."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.platform.http_requests import scoped_idempotency_key
from services.privacy.application.erasures import (
    EraseSubject,
    erase,
    get_request,
    list_requests,
)
from services.privacy.entrypoints.http.common import (
    PROBLEMS,
    CorrelationId,
    IdempotencyKey,
    actor,
    json_response,
    runtime,
)
from services.privacy.entrypoints.http.problems import not_found

router = APIRouter(tags=["erasures"], responses=PROBLEMS)


class ErasureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(min_length=1, max_length=200, description="The customer id")
    basis: Literal["data_subject_request", "retention_expired", "other"] = "data_subject_request"
    note: str | None = Field(None, max_length=2000, description="Why; no personal data here")


@router.post("/erasures", status_code=202)
async def request_erasure(
    body: ErasureBody,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> Response:
    """Destroy the subject's keys (and those of the records merged into it) and tell every
    read model to forget them; answered at once with the request and its progress."""
    key, body_hash = await scoped_idempotency_key(request, idempotency_key)
    command = EraseSubject(body.subject_id, body.basis, body.note, actor(request))
    found, replayed = await erase(
        runtime(request), command,
        idempotency_key=key, request_hash=body_hash, correlation_id=correlation_id,
    )  # fmt: skip
    return json_response({**found, "replayed": replayed}, 202,
                         {"Location": f"/v1/privacy/erasures/{found['id']}"})  # fmt: skip


@router.get("/erasures/{request_id}")
async def erasure_progress(request_id: UUID, request: Request) -> Response:
    found = await get_request(runtime(request), request_id)
    if found is None:
        raise not_found(f"no erasure request {request_id}")
    return json_response(found)


@router.get("/erasures")
async def erasures_of_subject(
    request: Request, subject_id: Annotated[str, Query(min_length=1, max_length=200)]
) -> Response:
    return json_response({"items": await list_requests(runtime(request), subject_id)})
