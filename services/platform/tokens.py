"""Opaque, URL-safe tokens: a JSON value in unpadded base64url (cursors, positions,
consistency tokens)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

import orjson


def encode_token(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


def decode_token(token: str) -> Any:
    """The JSON value of a token; ``ValueError`` when it is not one."""
    try:
        return orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise ValueError("not a token") from exc


CONSISTENCY_TOKEN_VERSION = 1
MAX_TOKEN_EVENTS = 20
"""A consistency token names at most this many of a command's events (its first ones)."""


class BadToken(ValueError):
    pass


def make_consistency_token(source: str, event_ids: Sequence[str]) -> str:
    """What a service answers a command with: the events a read must wait for
    (``wait_for=<token>``) to show the caller's own write. Minted by the service that
    appended them, so the gateway passes it through without knowing the service."""
    return encode_token([CONSISTENCY_TOKEN_VERSION, source, list(event_ids)[:MAX_TOKEN_EVENTS]])


def read_consistency_token(token: str) -> tuple[str, list[str]]:
    """(event source, event ids) of a consistency token; ``BadToken`` otherwise."""
    try:
        version, source, ids = decode_token(token)
    except (ValueError, TypeError):
        raise BadToken("not a consistency token of this CRM") from None
    if (
        version != CONSISTENCY_TOKEN_VERSION
        or not isinstance(source, str)
        or not isinstance(ids, list)
        or not all(isinstance(i, str) for i in ids)
        or len(ids) > MAX_TOKEN_EVENTS
    ):
        raise BadToken("not a consistency token of this CRM")
    return source, ids
