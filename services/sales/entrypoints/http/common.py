"""What every sales route does to translate: the caller and the version a request names,
a command sent to its handler (``send``), a state answered as JSON."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import orjson
from fastapi import Request, Response
from pydantic import BaseModel

from contracts.events.sales import Address
from services.platform.decider import DomainError
from services.platform.http_requests import if_match as if_match  # re-exported: routes read it here
from services.platform.http_requests import scoped_idempotency_key
from services.platform.tokens import make_consistency_token
from services.sales.application.access import Actor
from services.sales.application.runner import run_command
from services.sales.application.runtime import SOURCE, SalesRuntime
from services.sales.entrypoints.http.schemas import Accepted


def runtime(request: Request) -> SalesRuntime:
    sales: SalesRuntime = request.app.state.sales
    return sales


def actor(request: Request) -> Actor | None:
    """The person the gateway vouches for (see services.sales.application.access)."""
    role = request.headers.get("x-actor-role")
    if not role:
        return None
    # The gateway percent-encodes the values (names need not be Latin-1).
    team = request.headers.get("x-actor-team")
    person = unquote(request.headers.get("x-actor-id", ""))
    return Actor(person, unquote(role), unquote(team) if team else None)


def region(address: Address | None, country: str | None) -> str:
    return ((address.country if address else None) or country or "BR").upper()


async def send(
    request: Request,
    response: Response,
    command: Any,
    idempotency_key: str | None,
    correlation_id: str | None,
    *,
    created: bool = False,
) -> Accepted:
    """Run ``command`` (see ``application.handlers``); its answer, with a consistency token."""
    idempotency_key, request_hash = await scoped_idempotency_key(request, idempotency_key)
    data, replayed = await run_command(
        runtime(request),
        command,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        correlation_id=correlation_id,
    )
    if created and data.get("duplicate"):
        response.status_code = 200  # an existing record answered, nothing was created
    token = make_consistency_token(SOURCE, data["event_ids"])
    response.headers["X-Consistency-Token"] = token
    return Accepted(**{**data, "replayed": replayed, "consistency_token": token})


def state_response(state: Any, version: int) -> Response:
    if not getattr(state, "exists", False):
        raise DomainError("not found", code="not-found")
    body = {"version": version, **dataclasses.asdict(state)}
    return json_response(body)


def json_response(body: Any) -> Response:
    return Response(orjson.dumps(body, default=_json_default), media_type="application/json")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
