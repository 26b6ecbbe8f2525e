"""AES-256-GCM boxes holding an event's personal fields.

The associated data binds a box to its event type and subject: a box copied into another
event, or under another subject, does not open.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.personal import PERSONAL_KEY

ALGORITHM = "A256GCM"
NONCE_BYTES = 12


class BoxUnreadable(ValueError):
    """A sealed box that does not open with its subject's key: forged or damaged."""


def _aad(event_type: str, subject: str) -> bytes:
    return f"{event_type}|{subject}".encode()


def seal_box(event_type: str, subject: str, key: bytes, personal: dict[str, Any]) -> dict[str, Any]:
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, orjson.dumps(personal), _aad(event_type, subject))
    return {
        "subject": subject,
        "alg": ALGORITHM,
        "sealed": base64.urlsafe_b64encode(nonce + sealed).decode(),
    }


def open_box(event_type: str, box: dict[str, Any], key: bytes) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(str(box["sealed"]))
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                    _aad(event_type, str(box["subject"])))  # fmt: skip
        opened = orjson.loads(plain)
    except (InvalidTag, ValueError, KeyError, orjson.JSONDecodeError) as exc:
        raise BoxUnreadable(f"the sealed personal data of a {event_type} does not open") from exc
    if not isinstance(opened, dict):
        raise BoxUnreadable(f"the sealed personal data of a {event_type} is not an object")
    return opened


def box_of(data: dict[str, Any]) -> dict[str, Any] | None:
    box = data.get(PERSONAL_KEY)
    return box if isinstance(box, dict) else None
