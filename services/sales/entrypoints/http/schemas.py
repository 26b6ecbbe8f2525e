"""The sales API's documented shapes: problem and answer models, header and field types
(with the constraints the service enforces that JSON Schema can express)."""

from __future__ import annotations

from typing import Annotated, Any

import pycountry
from fastapi import Header
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from contracts.money import Money


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
QUANTITY_PATTERN: dict[str, Any] = {
    "pattern": r"^\+?(0*[1-9]\d{0,9}(\.\d{0,4})?"
    r"|0*\.(?:[1-9]\d{0,3}|0[1-9]\d{0,2}|00[1-9]\d?|000[1-9]))$"
}
"""A quantity as a string: more than 0, at most 10 digits before the point and 4 after
(``gt=0, max_digits=14, decimal_places=4``)."""
PERCENT_PATTERN: dict[str, Any] = {
    "pattern": r"^\+?0*(100(\.0{0,4})?|\d{1,2}(\.\d{0,4})?|\.\d{1,4})$"
}
"""A percentage as a string: 0 to 100, at most 4 digits after the point."""

DEAL_AMOUNT_SCHEMA: dict[str, Any] = {
    "title": "Money",
    "description": "An amount in one currency. Decimal on the wire as a string, never a float."
    " A deal's amount is never negative.",
    "type": "object",
    "properties": {
        "amount": {
            "anyOf": [
                {"type": "number", "minimum": 0},
                # Money: at most 18 digits, 4 of them after the point.
                {"type": "string", "pattern": r"^\+?0*(\d{1,14}(\.\d{0,4})?|\.\d{1,4})$"},
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


def _without_null(schema: dict[str, Any]) -> None:
    """A patch's fields may be absent, never null: say so in the document, so that
    clients (and fuzzers) are not invited to send what is refused."""
    for prop in schema.get("properties", {}).values():
        options = prop.get("anyOf")
        if options:
            kept = [o for o in options if o.get("type") != "null"]
            prop.pop("anyOf")
            if len(kept) == 1:
                prop.update(kept[0])
            else:
                prop["anyOf"] = kept
        if "default" in prop and prop["default"] is None:
            prop.pop("default")


class PatchBody(Body):
    """A JSON merge patch (RFC 7396) of a record's details: only the fields given change.
    A null would remove the field; details are corrected, not removed, so it is refused."""

    model_config = ConfigDict(json_schema_extra=_without_null)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("a correction replaces a value; null removes nothing here")
        return value


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
