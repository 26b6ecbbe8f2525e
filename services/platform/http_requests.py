"""What every context's HTTP API reads off a request the same way: the version a
command names (``If-Match``) and an idempotency key scoped to its request."""

from __future__ import annotations

import hashlib

from starlette.requests import Request

from services.platform.decider import DomainError


def if_match(request: Request) -> int | None:
    """``If-Match: <version>`` on a single-record command: optimistic concurrency (409)."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip().strip('"').removeprefix("W/").strip('"')
    if not value.isdigit():
        raise DomainError("If-Match must be the stream version you read", field="If-Match")
    return int(value)


async def scoped_idempotency_key(
    request: Request, key: str | None
) -> tuple[str | None, str | None]:
    """(key, body hash): a key belongs to one route, one caller and one body, so the same
    key on another route, from another person or with another body never answers with
    this request's result."""
    if key is None:
        return None, None
    caller = request.headers.get("x-actor-id", "")
    body_hash = hashlib.sha256(await request.body()).hexdigest()
    return f"{request.method} {request.url.path} {caller} {key}", body_hash
