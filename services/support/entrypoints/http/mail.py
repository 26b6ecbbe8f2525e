"""Routes of the inbound-mail quarantine: what became no case (unknown or missing
sender, automatic replies, a stranger in someone's case, unreadable mail), kept sealed,
listed for the service team and filed by hand, once."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from services.support.application import mail_filing
from services.support.entrypoints.http.common import (
    NO_NUL,
    PROBLEMS,
    Body,
    CorrelationId,
    IdempotencyKey,
    actor,
    json_response,
    runtime,
    send,
)

router = APIRouter(tags=["mail"], responses=PROBLEMS)


@router.get("/mail/quarantine")
async def list_quarantine(request: Request,
                          limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Response:  # fmt: skip
    """Held messages, oldest first: why each was held, its sender, subject and text
    (opened from its sealed copy for the service team)."""
    held = await mail_filing.held_messages(runtime(request), limit)
    return json_response({"items": held})


class AsNewCase(Body):
    """A new case for this (known) customer."""

    customer_id: str = Field(min_length=1, max_length=200, pattern=NO_NUL)


class AsReply(Body):
    """The customer's reply on this case."""

    case_id: UUID


FileBody = AsNewCase | AsReply


@router.post("/mail/quarantine/{mail_id}/case", status_code=201)
async def file_mail(mail_id: UUID, body: FileBody, request: Request,
                    idempotency_key: IdempotencyKey = None,
                    correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """File a held message, once: as a new case for ``customer_id``, or as the
    customer's reply on ``case_id``. Its sealed copy is dropped (the case holds it now)."""
    customer_id = body.customer_id if isinstance(body, AsNewCase) else None
    case_id = body.case_id if isinstance(body, AsReply) else None
    command = mail_filing.FileQuarantined(mail_id, customer_id, case_id, actor(request).actor_id)
    return await send(request, command, idempotency_key, correlation_id, 201)
