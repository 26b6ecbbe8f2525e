"""What every support route shares: the runtime, the caller the gateway vouches for, a
command sent to its handler with an idempotency key scoped to its request, and the
problems any route may answer with."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import unquote

import orjson
from fastapi import Header, Request, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict

from services.platform.decider import DomainError
from services.platform.http_requests import if_match as if_match  # re-exported: routes read it here
from services.platform.http_requests import scoped_idempotency_key
from services.platform.tokens import make_consistency_token
from services.support.application.runner import run_command
from services.support.application.runtime import SOURCE, Actor, SupportRuntime


def _iso_day(value: object) -> object:
    # A query's day is written YYYY-MM-DD: pydantic's lax mode would read "0" as 1970-01-01.
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
"""A calendar day in a query (``from`` / ``to`` of a report)."""
NO_NUL = r"^[^\u0000]*$"
"""Text stored as it is (not sealed) may not hold NUL, which PostgreSQL text refuses."""
TEXT = r"^[^\u0000]*\S[^\u0000]*$"
"""Text that must say something, and hold no NUL."""
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", max_length=200)]

PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed JSON (problem document)"},
    403: {"description": "The caller may not see or touch this record (problem document)"},
    404: {"description": "Unknown case, problem, customer or order (problem document)"},
    409: {"description": "Version conflict (stale If-Match) or closed case (problem document)"},
    422: {"description": "Invalid input or a refused transition; names the field (problem)"},
    503: {"description": "Database unavailable; retry after Retry-After (problem document)"},
}
CUSTOMER_ROLE = "customer"


def runtime(request: Request) -> SupportRuntime:
    found: SupportRuntime = request.app.state.support
    return found


def actor(request: Request) -> Actor:
    role = request.headers.get("x-actor-role")
    person = request.headers.get("x-actor-id")
    team = request.headers.get("x-actor-team")
    return Actor(unquote(person) if person else None, unquote(role) if role else None,
                 unquote(team) if team else None)  # fmt: skip


class Body(BaseModel):
    """A request body: a field it does not declare is refused (422), never ignored."""

    model_config = ConfigDict(extra="forbid")


def require_staff(request: Request, what: str) -> None:
    """``what`` is never a customer's to read or change, whoever forwards the call (the
    gateway checks roles; this holds without it)."""
    if actor(request).role == CUSTOMER_ROLE:
        raise DomainError(f"{what} are for staff", code="forbidden")


def require_own(request: Request, customer_id: str) -> None:
    """A customer (self-service) acts only on their own records."""
    who = actor(request)
    if who.role == CUSTOMER_ROLE and who.actor_id != customer_id:
        raise DomainError("a customer may act only on their own records", code="forbidden")


async def send(request: Request, command: Any, idempotency_key: str | None,
               correlation_id: str | None, status: int = 200,
               location: str | None = None) -> Response:  # fmt: skip
    if_match(request)  # a malformed If-Match is refused on every command
    idempotency_key, request_hash = await scoped_idempotency_key(request, idempotency_key)
    data, replayed = await run_command(runtime(request), command,
                                       idempotency_key=idempotency_key,
                                       request_hash=request_hash,
                                       correlation_id=correlation_id)  # fmt: skip
    token = make_consistency_token(SOURCE, data.get("event_ids", ()))
    headers = {"X-Consistency-Token": token}
    if location:
        headers["Location"] = location
    body = {**data, "replayed": replayed, "consistency_token": token}
    return json_response(body, status, headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:  # fmt: skip
    return Response(orjson.dumps(body, default=str), status_code=status,
                    media_type="application/json", headers=headers)  # fmt: skip
