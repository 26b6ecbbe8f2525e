"""Routes about a subject as a whole: the access request (export) and the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from services.privacy.application.audit import subject_trail
from services.privacy.application.exports import ExportSubject, export
from services.privacy.entrypoints.http.common import (
    PROBLEMS,
    CorrelationId,
    actor,
    json_response,
    runtime,
)

router = APIRouter(tags=["subjects"], responses=PROBLEMS)


@router.get("/subjects/{subject_id}/export")
async def export_subject(
    request: Request,
    subject_id: Annotated[str, Path(min_length=1, max_length=200)],
    correlation_id: CorrelationId = None,
) -> Response:
    """Everything the CRM holds about the subject, decrypted, as one attachment."""
    document = await export(runtime(request), ExportSubject(subject_id, actor(request)),
                            correlation_id)  # fmt: skip
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in subject_id)
    return json_response(
        document, headers={"Content-Disposition": f'attachment; filename="subject-{safe}.json"'}
    )


@router.get("/audit")
async def audit_trail(
    request: Request,
    subject_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> Response:
    """Who exported, asked to erase, placed or released a hold; oldest first."""
    return json_response({"items": await subject_trail(runtime(request), subject_id)})
