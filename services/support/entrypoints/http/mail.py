"""Routes of the inbound-mail quarantine: the messages that became no case (unknown or
missing sender, unreadable, a stranger writing into a case), and filing one by hand as
a new case for the customer a supervisor recognised. Staff only."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.platform.decider import DomainError
from services.support.application import mail_filing
from services.support.entrypoints.http.common import (
    CUSTOMER_ROLE,
    PROBLEMS,
    TEXT,
    CorrelationId,
    IdempotencyKey,
    actor,
    json_response,
    runtime,
    send,
)

router = APIRouter(tags=["mail"], responses=PROBLEMS)


class FileAsCaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT)]


def _staff_only(request: Request) -> None:
    # The gateway checks roles; quarantined mail is nobody's self-service, whoever forwards.
    if actor(request).role == CUSTOMER_ROLE:
        raise DomainError("quarantined mail is for staff", code="forbidden")


Limit = Annotated[int, Query(ge=1, le=500, description="At most this many, oldest first")]


@router.get("/mail/quarantine")
async def list_quarantine(request: Request, limit: Limit = 100) -> Response:
    """The held messages, oldest first, each with why it was held (``reason``) and its
    sender, subject and text opened for the reader."""
    _staff_only(request)
    held = await mail_filing.held_messages(runtime(request), limit)
    items = [{"mail_id": row.pop("quarantine_id"), **row} for row in held]
    return json_response({"items": items})


@router.post("/mail/quarantine/{mail_id}/case", status_code=201)
async def file_as_case(mail_id: UUID, body: FileAsCaseBody, request: Request,
                       idempotency_key: IdempotencyKey = None,
                       correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """File a held message as a new case for ``customer_id``, once: the message leaves
    the quarantine; asked again, 409."""
    _staff_only(request)
    command = mail_filing.FileQuarantined(mail_id, customer_id=body.customer_id,
                                          filed_by=actor(request).actor_id)  # fmt: skip
    return await send(request, command, idempotency_key, correlation_id, 201)
