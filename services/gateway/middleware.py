"""Cross-cutting HTTP concerns of the gateway, as plain ASGI middleware.

- correlation id: taken from ``X-Correlation-Id`` (or made up; an unusable one is a
  400), bound to every log line,
  forwarded to the services (which put it on the events) and returned;
- request size limit: 413 before the body is read when ``Content-Length`` says so, and
  while reading when it does not;
- rate limits: a token bucket per authenticated client (see ``RateLimiter``);
- content type: a body must be JSON (415 otherwise).
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import orjson
import structlog
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.platform.logging import get_logger
from services.platform.problems import PROBLEM_BASE, PROBLEM_JSON, problem

log = get_logger(__name__)

CORRELATION_HEADER = "x-correlation-id"
CORRELATION_PATTERN = r"^[\x21-\x7e]{1,200}$"
_CORRELATION_OK = re.compile(CORRELATION_PATTERN)


async def send_problem(
    send: Send,
    status: int,
    title: str,
    detail: str,
    kind: str,
    headers: dict[str, str] | None = None,
) -> None:
    body = orjson.dumps(
        {"type": PROBLEM_BASE + kind, "title": title, "status": status, "detail": detail}
    )
    raw_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *[(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


class CorrelationMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        presented = None
        for name, value in scope["headers"]:
            if name == CORRELATION_HEADER.encode():
                presented = value.decode("latin-1")
        # An unusable id (too long, spaces, control characters) is refused, as the OpenAPI
        # document says (CORRELATION_PATTERN): a client that sends one has a bug to fix,
        # and silently replacing it would break the trace it meant to follow.
        correlation = str(uuid.uuid4()) if presented is None else presented
        scope.setdefault("state", {})["correlation_id"] = correlation
        if presented is not None and not _CORRELATION_OK.match(presented):
            await send_problem(
                send, 400, "Invalid X-Correlation-Id",
                "X-Correlation-Id must be 1 to 200 visible ASCII characters",
                "invalid-correlation-id",
            )  # fmt: skip
            return
        structlog.contextvars.bind_contextvars(correlation_id=correlation)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != b"x-correlation-id"]
                headers.append((b"x-correlation-id", correlation.encode()))
                message["headers"] = headers
            await send(message)

        tracking = _StartTracking(send_with_id)
        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            # Here, not in Starlette's outermost handler: the answer keeps its correlation
            # id (and CORS headers), and the log line says which request failed.
            log.exception("http.unexpected_error", error=repr(exc), path=scope.get("path"))
            if not tracking.started:
                await send_problem(
                    send_with_id, 500, "Internal error",
                    "the request failed; nothing was changed", "internal",
                )  # fmt: skip
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id")


class _StartTracking:
    """A ``send`` that remembers whether the answer has begun: once it has, a problem
    document can no longer take its place."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.max_bytes:
                    await self._too_large(send)
                    return
        received = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    raise _BodyTooLarge
            return message

        tracking = _StartTracking(send)
        try:
            await self.app(scope, counting_receive, tracking)
        except _BodyTooLarge:
            if not tracking.started:
                await self._too_large(send)
        except Exception:
            if refused and not tracking.started:
                await self._too_large(send)
                return
            raise

    async def _too_large(self, send: Send) -> None:
        await send_problem(
            send, 413, "Request too large",
            f"the body may be at most {self.max_bytes} bytes", "too-large",
        )  # fmt: skip


class _BodyTooLarge(Exception):
    pass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token bucket per client: ``rate`` requests a second on average, bursts of ``burst``.

    In memory, per gateway process: with several gateway replicas each enforces its own
    share (documented). Returns the seconds to wait when a request is refused. ``clock``
    lets a test say when time passes instead of racing the wall clock.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, client: str, now: float | None = None) -> float:
        now = self.clock() if now is None else now
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._forget_full_buckets(now)
            bucket = self._buckets[client] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget_full_buckets(self, now: float) -> None:
        """A bucket that has refilled is the same as no bucket: drop those."""
        full_after = self.burst / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < full_after}


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS handling, with a refused preflight answered as a problem document."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        detail = bytes(response.body).decode("utf-8", "replace")
        refused = problem(403, "CORS request refused", detail, PROBLEM_BASE + "cors")
        for name in ("vary", "access-control-allow-methods", "access-control-max-age"):
            if name in response.headers:
                refused.headers[name] = response.headers[name]
        return refused


_JSON_TYPES = ("application/json", "application/cloudevents+json")


class ContentTypeMiddleware:
    """A request with a body must say it is JSON: 415 otherwise, never a guess."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            has_body = headers.get(b"content-length", b"0") != b"0" or (
                b"transfer-encoding" in headers
            )
            raw_type = headers.get(b"content-type", b"").decode("latin-1")
            ctype = raw_type.split(";")[0].strip().lower()
            if has_body and not (ctype in _JSON_TYPES or ctype.endswith("+json")):
                await send_problem(
                    send, 415, "Unsupported media type",
                    f"send JSON (application/json), not {ctype or 'no content type'}",
                    "unsupported-media-type",
                )  # fmt: skip
                return
        await self.app(scope, receive, send)
