"""Opaque, URL-safe tokens: a JSON value in unpadded base64url (cursors, positions)."""

from __future__ import annotations

import base64
import binascii
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
