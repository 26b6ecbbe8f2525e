"""What every sales route shares: the problem and answer models, header and field types,
and the translation of a request into a command run (``send``) and of a state into JSON."""

from __future__ import annotations

import dataclasses
import hashlib
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import unquote

import orjson
import pycountry
from fastapi import Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from contracts.events.sales import Address
from contracts.money import Money
from services.platform.decider import DomainError
from services.platform.tokens import make_consistency_token
from services.sales.application.access import Actor
from services.sales.application.runner import run_command
from services.sales.application.runtime import SOURCE, SalesRuntime


class FieldError(BaseModel):
    field: str
    message: str
    type: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem document (application/problem+json)."""

    type: str = Field(examples=["https://opencrm.dev/problems/validation"])
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


PROBLEM_JSON = "application/problem+json"


def problem_answer(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description, "content": {PROBLEM_JSON: {}}}


PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: problem_answer("Malformed JSON"),
    404: problem_answer("No such record"),
    403: problem_answer("The caller (forwarded by the gateway) may not touch this deal"),
    409: problem_answer("Version conflict (stale If-Match / expected_version) or already exists"),
    413: problem_answer("An event would be too large to publish"),
    422: problem_answer("Invalid input or a business rule refused the command; names the field"),
}
"""The problems any sales route may answer with (each resource's router declares them)."""

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=300)]
# Identifiers must say something: "" or "   " would become a Kafka key or bypass the rules.
Identifier = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
# Contact data as typed by a person; the domain normalises and checks each item (e-mail
# addresses with email_validator: the document says so with the format).
Phones = Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=10)]
Email = Annotated[str, Field(max_length=320, json_schema_extra={"format": "email"})]
Emails = Annotated[list[Email], Field(max_length=10)]

DECIMAL_STRING = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
"""A decimal sent as a string (money and quantities are Decimal, never a float). As a
keyword beside ``anyOf`` it constrains the string branch only."""
DECIMAL_PATTERN: dict[str, Any] = {"pattern": DECIMAL_STRING}

DEAL_AMOUNT_SCHEMA: dict[str, Any] = {
    "title": "Money",
    "description": "An amount in one currency. Decimal on the wire as a string, never a float."
    " A deal's amount is never negative.",
    "type": "object",
    "properties": {
        "amount": {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\+?(\d+(\.\d*)?|\.\d+)$"},
            ],
            "examples": ["1250.00"],
        },
        "currency": {
            "type": "string",
            "enum": sorted(currency.alpha_3 for currency in pycountry.currencies),
            "description": "ISO 4217",
            "examples": ["BRL", "ARS", "EUR"],
        },
    },
    "required": ["amount", "currency"],
}
DealAmount = Annotated[Money, WithJsonSchema(DEAL_AMOUNT_SCHEMA, mode="validation")]
"""A deal's ``Money``: the same checks, documented with the currencies ISO 4217 knows and
the opportunity's own rule (not negative)."""
OptionalText = Annotated[str | None, Field(default=None, max_length=2000)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Accepted(BaseModel):
    """What a command did: the stream it wrote and its version after the write."""

    model_config = ConfigDict(extra="allow")

    id: str
    stream_id: str
    version: int = Field(description="Stream version after the command: read your writes to it")
    event_ids: list[str]
    replayed: bool = Field(False, description="An earlier request with this key answered")
    consistency_token: str | None = Field(
        None,
        description="Names this command's events (also in `X-Consistency-Token`): a read "
        "that waits for it shows the caller's own write",
    )


RECORD_SCHEMA = {
    "type": "object",
    "required": ["version", "exists"],
    "properties": {
        "version": {"type": "integer", "minimum": 1},
        "exists": {"type": "boolean", "const": True},
    },
    "additionalProperties": True,
}
RECORD_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The record as its events made it, with the stream `version` to send "
        "back as `If-Match`",
        "content": {"application/json": {"schema": RECORD_SCHEMA}},
    }
}
DUPLICATE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "model": Accepted,
        "description": "A duplicate: the existing record answers "
        "(`duplicate: true`, `matched_on`), nothing is created",
    },
}


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


def if_match(request: Request) -> int | None:
    """``If-Match: <version>`` on any single-record command: optimistic concurrency (409)."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip().strip('"').removeprefix("W/").strip('"')
    if not value.isdigit():
        raise DomainError("If-Match must be the stream version you read", field="If-Match")
    return int(value)


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
    request_hash = None
    if idempotency_key is not None:
        # A key belongs to one request: the same key on another route or with another body
        # is refused instead of answering with an unrelated result.
        # ... and to one caller: another person's request never answers with this one's.
        caller = request.headers.get("x-actor-id", "")
        idempotency_key = f"{request.method} {request.url.path} {caller} {idempotency_key}"
        request_hash = hashlib.sha256(await request.body()).hexdigest()
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
