"""What every privacy route shares: the runtime, the caller the gateway vouches for, an
idempotency key scoped to its request, and the problems of the privacy rules."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import unquote

import orjson
from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse

from services.platform.problems import PROBLEM_BASE, problem
from services.privacy.application.holds import HoldAlreadyReleased, HoldNotFound
from services.privacy.application.runtime import Actor, PrivacyRuntime
from services.privacy.domain.rules import AlreadyErased, SubjectUnknown, UnderLegalHold

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", max_length=200)]
SubjectId = Annotated[str, "a data subject: the customer id"]

PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown subject, request or hold (problem document)"},
    409: {"description": "Already erased, held, or already released (problem document)"},
    422: {"description": "Invalid request (problem document)"},
    503: {"description": "Database unavailable; retry after Retry-After (problem document)"},
}


def runtime(request: Request) -> PrivacyRuntime:
    found: PrivacyRuntime = request.app.state.privacy
    return found


def actor(request: Request) -> Actor:
    """The gateway's forwarded caller (percent-encoded); a direct call without it is
    recorded as such rather than refused: the service trusts its network, like sales."""
    person = unquote(request.headers.get("x-actor-id", "")) or "unidentified"
    return Actor(person, unquote(request.headers.get("x-actor-role", "")) or "unknown")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers=headers)  # fmt: skip


def install_privacy_problems(app: FastAPI) -> None:
    @app.exception_handler(SubjectUnknown)
    async def unknown(_: Request, exc: SubjectUnknown) -> JSONResponse:
        return problem(404, "Unknown data subject", str(exc), PROBLEM_BASE + "unknown-subject",
                       subject=exc.subject)  # fmt: skip

    @app.exception_handler(AlreadyErased)
    async def erased(_: Request, exc: AlreadyErased) -> JSONResponse:
        return problem(409, "Already erased", str(exc), PROBLEM_BASE + "already-erased",
                       subject=exc.subject)  # fmt: skip

    @app.exception_handler(UnderLegalHold)
    async def held(_: Request, exc: UnderLegalHold) -> JSONResponse:
        hold = exc.hold
        return problem(
            409, "Under legal hold", str(exc), PROBLEM_BASE + "legal-hold",
            hold={"id": str(hold.hold_id), "subject_id": hold.subject_id, "reason": hold.reason,
                  "until": hold.until.isoformat() if hold.until else None},
        )  # fmt: skip

    @app.exception_handler(HoldNotFound)
    async def no_hold(_: Request, exc: HoldNotFound) -> JSONResponse:
        return problem(404, "Unknown legal hold", str(exc), PROBLEM_BASE + "not-found")

    @app.exception_handler(HoldAlreadyReleased)
    async def released(_: Request, exc: HoldAlreadyReleased) -> JSONResponse:
        return problem(409, "Already released", str(exc), PROBLEM_BASE + "already-released")
