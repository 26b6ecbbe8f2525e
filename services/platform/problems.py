"""RFC 9457 problem documents for every HTTP error; never a bare 500 for bad input."""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.platform.commands import IdempotencyKeyReused
from services.platform.decider import DomainError
from services.platform.eventstore import EventTooLarge, WrongExpectedVersion
from services.platform.faults import (
    CONTENTION,
    DATABASE_UNREACHABLE,
    RETRY_AFTER_SECONDS,
    DatabaseUnavailable,
)
from services.platform.logging import get_logger
from services.platform.privacy.data_keys import SubjectErased

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://opencrm.dev/problems/"


def problem(
    status: int, title: str, detail: str | None = None, type_: str = "about:blank", **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
RETRY_WITH_KEY = (
    "retry with the same Idempotency-Key to learn whether it was applied: a command sent "
    "again with its key is never applied twice"
)


def unavailable_problem(method: str, exc: BaseException) -> JSONResponse:
    """503 with Retry-After for a database that is down, restarting or dropped the
    connection, or for contention that outlasted the retries. It never claims that
    nothing changed when the connection was lost while committing."""
    if isinstance(exc, DatabaseUnavailable) and exc.outcome_unknown:
        detail = (
            "the connection to the database was lost while the change was being committed, "
            f"so it may or may not have been applied; {RETRY_WITH_KEY}"
        )
    elif isinstance(exc, CONTENTION):
        detail = "the database was too busy with conflicting changes; nothing was changed"
    else:
        detail = "the database is unavailable (restarting or unreachable)"
        if method not in SAFE_METHODS:
            detail += "; nothing was changed"
    if method not in SAFE_METHODS:
        detail += ". Retry after the Retry-After seconds, with the same Idempotency-Key"
    response = problem(503, "Service unavailable", detail, PROBLEM_BASE + "unavailable")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
            for e in exc.errors()
        ]
        if any(e["type"] == "json_invalid" for e in errors):
            return problem(400, "Malformed JSON", errors[0]["message"], PROBLEM_BASE + "malformed")
        return problem(
            422,
            "Invalid request",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            PROBLEM_BASE + "validation",
            errors=errors,
        )

    @app.exception_handler(DomainError)
    async def domain(_: Request, exc: DomainError) -> JSONResponse:
        status = {
            "not-found": 404,
            "already-exists": 409,
            "duplicate": 409,
            "forbidden-team": 403,
            "forbidden": 403,
            "case-closed": 409,
        }.get(exc.code, 422)
        extra: dict[str, Any] = {}
        if exc.field:
            extra["errors"] = [{"field": exc.field, "message": str(exc), "type": exc.code}]
        return problem(status, "Business rule violated", str(exc), PROBLEM_BASE + exc.code, **extra)

    @app.exception_handler(WrongExpectedVersion)
    async def conflict(_: Request, exc: WrongExpectedVersion) -> JSONResponse:
        return problem(
            409,
            "Version conflict",
            str(exc),
            PROBLEM_BASE + "version-conflict",
            stream_id=exc.stream_id,
            expected_version=exc.expected,
            actual_version=exc.actual,
        )

    @app.exception_handler(IdempotencyKeyReused)
    async def key_reused(_: Request, exc: IdempotencyKeyReused) -> JSONResponse:
        return problem(
            422, "Idempotency key reused", str(exc), PROBLEM_BASE + "idempotency-key-reused",
            errors=[{"field": "Idempotency-Key", "message": str(exc), "type": "reused"}],
        )  # fmt: skip

    @app.exception_handler(SubjectErased)
    async def erased(_: Request, exc: SubjectErased) -> JSONResponse:
        # Nothing was written: the CRM keeps no new personal data about an erased subject.
        return problem(
            409, "Personal data erased", f"{exc}; the CRM keeps no new personal data about "
            "this subject", PROBLEM_BASE + "personal-data-erased", subject=exc.subject,
        )  # fmt: skip

    @app.exception_handler(EventTooLarge)
    async def too_large(_: Request, exc: EventTooLarge) -> JSONResponse:
        return problem(413, "Too large", str(exc), PROBLEM_BASE + "too-large")

    @app.exception_handler(asyncpg.DataError)
    async def data(_: Request, exc: asyncpg.DataError) -> JSONResponse:
        # e.g. a NUL character, which PostgreSQL text cannot hold: the transaction failed,
        # nothing was written.
        return problem(422, "Invalid data", str(exc).splitlines()[0], PROBLEM_BASE + "data")

    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("http.database_unavailable", error=repr(exc), path=request.url.path)
        return unavailable_problem(request.method, exc)

    faults: tuple[type[Exception], ...] = (DatabaseUnavailable, *DATABASE_UNREACHABLE, *CONTENTION)
    for fault in faults:
        app.add_exception_handler(fault, database_unavailable)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("http.unexpected_error", error=repr(exc))
        detail = "the request failed unexpectedly"
        if request.method not in SAFE_METHODS:
            detail += f"; {RETRY_WITH_KEY}"
        return problem(500, "Internal error", detail, PROBLEM_BASE + "internal")

    @app.exception_handler(StarletteHTTPException)
    async def http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem(exc.status_code, str(exc.detail))
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response
