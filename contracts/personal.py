"""Personal data in the contracts: which fields of an event are personal, whose they are,
and what the event looks like on the wire once they are sealed.

An event class names its personal fields (``personal_fields``: names, tax ids, phones,
e-mails, addresses, free text written by or about a person) and the field holding the
id of their data subject (``data_subject``, the customer's id by default). On the wire,
from the schema version that introduced sealing on, those fields travel together in one
sealed box under ``personal``, encrypted with the subject's own key; everything else stays
readable, so amounts, dates and products (the fiscal record) outlive an erasure.

No cryptography here: ``services.platform.privacy`` seals and opens the box. This module
only says what goes in it, and what an erased field reads as.
"""

from __future__ import annotations

import copy
import functools
import types
import typing
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from contracts.registry import DomainEvent

PERSONAL_KEY = "personal"
"""The data attribute carrying the sealed box of an event's personal fields."""

ERASED = "[erased]"
"""What a personal text field reads as once its subject is erased."""

SEALED_BOX_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "SealedPersonalData",
    "description": "The event's personal fields as one JSON object, encrypted with the data "
    "subject's own key (AES-256-GCM; associated data: event type and subject id). "
    "Unreadable once the subject is erased: the key is destroyed.",
    "properties": {
        "subject": {"type": "string", "minLength": 1, "maxLength": 200,
                    "description": "The data subject's id (whose key sealed the box)"},
        "alg": {"const": "A256GCM"},
        "sealed": {"type": "string", "minLength": 16,
                   "description": "base64url(nonce || ciphertext || tag)"},
    },
    "required": ["subject", "alg", "sealed"],
    "additionalProperties": False,
}  # fmt: skip


def personal_fields(cls: type[DomainEvent]) -> tuple[str, ...]:
    return tuple(getattr(cls, "personal_fields", ()))


def subject_field(cls: type[DomainEvent]) -> str:
    return str(getattr(cls, "data_subject", "customer_id"))


def subject_of(cls: type[DomainEvent], data: dict[str, Any]) -> str | None:
    """The data subject's id in ``data`` (plain or sealed), if it names one."""
    box = data.get(PERSONAL_KEY)
    if isinstance(box, dict) and isinstance(box.get("subject"), str):
        return str(box["subject"])
    value = data.get(subject_field(cls))
    return str(value) if value is not None else None


def is_sealed(data: dict[str, Any]) -> bool:
    box = data.get(PERSONAL_KEY)
    return isinstance(box, dict) and "sealed" in box


def split(cls: type[DomainEvent], data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the readable part, the personal part) of an event's plain JSON data."""
    names = set(personal_fields(cls))
    clear = {k: v for k, v in data.items() if k not in names}
    personal = {k: v for k, v in data.items() if k in names}
    return clear, personal


def _is_list(annotation: Any) -> bool:
    # An optional list (a correction's "null: unchanged") erases to an empty list too.
    if _optional(annotation):
        return any(_is_list(arg) for arg in get_args(annotation) if arg is not type(None))
    return get_origin(annotation) in (list, tuple, set, frozenset)


def _optional(annotation: Any) -> bool:
    origin = get_origin(annotation)
    return origin in (Union, types.UnionType) and type(None) in get_args(annotation)


def _is_model(annotation: Any) -> bool:
    return any(
        isinstance(arg, type) and issubclass(arg, BaseModel)
        for arg in (annotation, *get_args(annotation))
    )


def erased_value(cls: type[DomainEvent], name: str) -> Any:
    """What field ``name`` of ``cls`` reads as once its subject is erased: ``[erased]``
    for text, an empty list for lists, null for structured values (address, tax id)."""
    annotation = typing.get_type_hints(cls)[name]
    if _is_list(annotation):
        return []
    if _is_model(annotation):
        if not _optional(annotation):
            raise TypeError(f"{cls.__name__}.{name}: a personal structured field must be optional")
        return None
    return ERASED


def erased_part(cls: type[DomainEvent]) -> dict[str, Any]:
    """The personal part of an event of ``cls`` whose subject is erased."""
    return {name: copy.copy(value) for name, value in _erased_part(cls)}


@functools.cache
def _erased_part(cls: type[DomainEvent]) -> tuple[tuple[str, Any], ...]:
    # Reading a class's type hints costs about a millisecond: once per class, not per event.
    return tuple((name, erased_value(cls, name)) for name in personal_fields(cls))


def erase(cls: type[DomainEvent], data: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON data with its personal fields read as erased: the same data a reader
    gets from the sealed event once the subject's key is gone."""
    clear, _ = split(cls, data)
    return {**clear, **erased_part(cls)}


def sealed_schema(cls: type[DomainEvent], plain: dict[str, Any]) -> dict[str, Any]:
    """The wire schema of the sealed version, from the plain model's JSON Schema: the
    personal properties leave for the sealed box, whose fields and subject are named."""
    schema = copy.deepcopy(plain)
    names = personal_fields(cls)
    properties = schema.get("properties", {})
    for name in names:
        properties.pop(name, None)
    properties[PERSONAL_KEY] = {"$ref": "#/$defs/SealedPersonalData"}
    required = [r for r in schema.get("required", []) if r not in names]
    schema["required"] = [*required, PERSONAL_KEY]
    schema.setdefault("$defs", {})["SealedPersonalData"] = SEALED_BOX_SCHEMA
    schema["x-personal-fields"] = list(names)
    schema["x-data-subject"] = subject_field(cls)
    return _drop_unused_defs(schema)


def _drop_unused_defs(schema: dict[str, Any]) -> dict[str, Any]:
    from contracts.compatibility import _reachable_defs

    used = _reachable_defs(schema, schema.get("properties", {}))
    schema["$defs"] = {k: v for k, v in schema["$defs"].items() if k in used}
    return schema
