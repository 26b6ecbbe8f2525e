"""The gateway: one authenticated, documented front door under ``/v1``.

Commands are forwarded to the service that owns them (the sales service today); their
routes, bodies and answers are the service's own, mirrored here so the OpenAPI document
is complete. Reads come from the projections. Other systems publish CloudEvents through
``POST /v1/events``. Every route but health and documentation needs a bearer token or an
API key, and the role matrix (``services.gateway.policy``) decides what each may do.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import os
import re
import time
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import aiohttp
import asyncpg
import orjson
import yarl
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import Headers, QueryParams
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts.schema_files import ASYNCAPI_FILE
from contracts.topics import EXTERNAL
from projections.customer360.profile import Profile
from projections.customer360.queries import get_profile, search
from projections.timeline.queries import MAX_LIMIT, page, survivor_of
from services.gateway import events as external_events
from services.gateway.auth import (
    AuthError,
    KeyRing,
    Principal,
    UnknownKeyError,
    key_file_identity,
    local_dir_of,
    local_key_file,
)
from services.gateway.errors import GatewayProblem, unavailable
from services.gateway.middleware import (
    BodyLimitMiddleware,
    CorrelationMiddleware,
    ProblemCORSMiddleware,
    RateLimiter,
    retry_after,
    send_problem,
)
from services.gateway.policy import ADMIN, ANALYST, MATRIX, allowed
from services.gateway.reads import (
    BadToken,
    Projections,
    decode_position,
    live_entries,
    make_token,
)
from services.gateway.scope import DealScope
from services.platform.kafka import LazyProducer, make_producer
from services.platform.logging import get_logger
from services.platform.problems import PROBLEM_BASE, install_problem_handlers, problem
from services.sales.application.assignment import AssignmentRules
from services.sales.application.runtime import SOURCE as SALES_SOURCE
from services.sales.entrypoints.http import Accepted
from services.sales.entrypoints.http import router as sales_router

log = get_logger(__name__)

FORWARDED_REQUEST_HEADERS = ("content-type", "idempotency-key", "if-match", "accept")
FORWARDED_RESPONSE_HEADERS = ("content-disposition", "etag", "location", "retry-after")
JSON_TYPES = ("application/json", "application/cloudevents+json")


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_GATEWAY_", extra="ignore")

    sales_url: str = "http://127.0.0.1:8101"
    max_body_bytes: int = 1 << 20
    rate_per_second: float = 200.0
    rate_burst: int = 400
    cors_origins: str = ""  # comma-separated front-end origins, e.g. https://app.example.com
    max_wait_seconds: float = 10.0
    upstream_timeout_seconds: float = 30.0
    events_topic: str = EXTERNAL.name
    max_batch_events: int = 500
    max_streams_per_client: int = 5
    failed_auth_per_second: float = 5.0  # per client address
    failed_auth_burst: int = 20


@dataclass
class GatewayRuntime:
    settings: GatewaySettings
    keys: KeyRing
    pool: asyncpg.Pool
    http: aiohttp.ClientSession
    producer: LazyProducer
    limiter: RateLimiter
    projections: Projections
    failed_auth: RateLimiter = field(default_factory=lambda: RateLimiter(5.0, 20))
    rules: AssignmentRules = field(default_factory=AssignmentRules.load)
    keys_file: Path | None = None  # the local key ring, re-read when it changes
    keys_check_seconds: float = 2.0  # how often to look whether it changed
    _keys_seen: tuple[float, tuple[int, int, int] | None] = (0.0, None)  # (checked at, file id)
    streams: dict[str, int] = field(default_factory=dict)  # open live streams per client
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def create(
        cls,
        settings: GatewaySettings,
        database_url: str,
        kafka_bootstrap: str,
        keys: KeyRing | None = None,
    ) -> GatewayRuntime:
        # The key ring first: a gateway that cannot find or create it says so at once.
        keys_file = None if keys or os.environ.get("CRM_GATEWAY_JWT_KEYS") else local_key_file()
        seen = key_file_identity(keys_file) if keys_file else None
        ring = keys or KeyRing.load()
        pool = await asyncpg.create_pool(
            database_url,
            min_size=1,
            max_size=10,
            server_settings={
                "search_path": "timeline,customer360,public",
                "application_name": "crm-gateway",
            },
        )
        assert pool is not None
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=30),
            timeout=aiohttp.ClientTimeout(total=settings.upstream_timeout_seconds),
        )
        return cls(
            settings=settings,
            keys=ring,
            keys_file=keys_file,
            _keys_seen=(time.monotonic(), seen),
            pool=pool,
            http=http,
            producer=LazyProducer(lambda: make_producer(kafka_bootstrap)),
            limiter=RateLimiter(settings.rate_per_second, settings.rate_burst),
            failed_auth=RateLimiter(settings.failed_auth_per_second, settings.failed_auth_burst),
            projections=Projections(pool),
        )

    def current_keys(self) -> KeyRing:
        """The key ring, re-read (at most every 2 s) when its local file changed: a key
        rotated or an API key added or revoked with ``crm auth`` needs no restart."""
        if self.keys_file is None:
            return self.keys
        now = time.monotonic()
        checked_at, seen = self._keys_seen
        if now - checked_at < self.keys_check_seconds:
            return self.keys
        current = key_file_identity(self.keys_file)
        if seen is not None and current is not None and current != seen:
            self.keys = KeyRing.load(local_dir_of(self.keys_file))
            log.info("gateway.keys_reloaded", kids=sorted(self.keys.keys))
        self._keys_seen = (now, current)
        return self.keys

    def reload_keys_if_changed(self) -> bool:
        """On an unknown key id: re-read the key ring file now if it changed since it was
        read, so an API key just made with ``crm auth api-key`` works on its first
        request. Guessed ids cannot make it re-read an unchanged file: they cost a stat."""
        if self.keys_file is None:
            return False
        current = key_file_identity(self.keys_file)
        if current is None or current == self._keys_seen[1]:
            return False
        self.keys = KeyRing.load(local_dir_of(self.keys_file))
        self._keys_seen = (time.monotonic(), current)
        log.info("gateway.keys_reloaded", kids=sorted(self.keys.keys), cause="unknown key")
        return True

    async def close(self) -> None:
        self.stop.set()
        await self.http.close()
        await self.producer.drop()
        await self.pool.close()


def _runtime(request: Request) -> GatewayRuntime:
    runtime: GatewayRuntime = request.app.state.gateway
    return runtime


_TEMPLATES = [
    (method, compile_path(path)[0], f"{method} {path}")
    for method, path in (key.split(" ", 1) for key in MATRIX)
]


def route_id(request: Request) -> str:
    """``METHOD /v1/template`` of the request, as the matrix names routes.

    Matched against the matrix's own templates rather than read from the router, whose
    nesting of included routers is an implementation detail of FastAPI.
    """
    path = request.url.path
    for method, pattern, key in _TEMPLATES:
        if method == request.method and pattern.match(path):
            return key
    return f"{request.method} {path}"


# ------------------------------------------------------------------- authentication
def authenticate(keys: KeyRing, headers: Headers) -> Principal:
    """The caller, from a bearer token or an API key; a 401 problem otherwise."""
    try:
        return credentials(keys, headers)
    except AuthError as exc:
        raise unauthenticated(exc) from None


def unauthenticated(exc: AuthError) -> GatewayProblem:
    return GatewayProblem(
        401, "Unauthenticated", str(exc), "unauthenticated",
        {"WWW-Authenticate": 'Bearer realm="opencrm", ApiKey'},
    )  # fmt: skip


def credentials(keys: KeyRing, headers: Headers) -> Principal:
    """The caller, from a bearer token or an API key; ``AuthError`` says why not."""
    api_key = headers.get("x-api-key")
    authorization = headers.get("authorization")
    if api_key:
        return keys.verify_api_key(api_key.strip())
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return keys.verify(value.strip())
        if scheme.lower() == "apikey" and value.strip():
            return keys.verify_api_key(value.strip())
        raise AuthError("use 'Authorization: Bearer <token>' or 'X-API-Key: <key>'")
    raise AuthError("credentials required: a bearer token or an API key")


def identify(runtime: GatewayRuntime, headers: Headers, client: Any) -> Principal:
    """``authenticate``, with failures counted per client address: guessing gets a 429."""
    try:
        try:
            return credentials(runtime.current_keys(), headers)
        except UnknownKeyError:
            if not runtime.reload_keys_if_changed():
                raise
            return credentials(runtime.keys, headers)
    except AuthError as exc:
        address = client[0] if client else "unknown"
        wait = runtime.failed_auth.take(f"address:{address}")
        if wait > 0:
            raise GatewayProblem(
                429, "Too many failed authentications",
                "wait before trying other credentials", "rate-limited",
                {"Retry-After": retry_after(wait)},
            ) from None  # fmt: skip
        raise unauthenticated(exc) from None


def admit(runtime: GatewayRuntime, principal: Principal, rid: str) -> None:
    """Rate limit per client, then the role matrix: 429 or 403 problems."""
    wait = runtime.limiter.take(principal.client_id)
    if wait > 0:
        raise GatewayProblem(
            429, "Too many requests",
            f"at most {runtime.settings.rate_per_second:g} requests a second per client",
            "rate-limited", {"Retry-After": retry_after(wait)},
        )  # fmt: skip
    if not allowed(rid, principal.role):
        raise GatewayProblem(
            403, "Forbidden", f"role {principal.role!r} may not {rid}", "forbidden"
        )


async def guard(request: Request) -> Principal:
    """Authenticate, rate-limit and authorise by the role matrix; the principal."""
    runtime = _runtime(request)
    principal = identify(runtime, request.headers, request.scope.get("client"))
    admit(runtime, principal, route_id(request))
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(guard)]


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {}}}


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem_response("No or invalid credentials (expired, tampered, unknown key)"),
    403: _problem_response("The caller's role or team may not do this"),
    429: _problem_response("Rate limit exceeded; see Retry-After"),
}


# ---------------------------------------------------------------- commands (proxy)
class GatewayAccepted(Accepted):
    consistency_token: str | None = Field(
        None,
        description="Pass as `wait_for` to /v1/customers/{id} or its timeline to read "
        "your own write: the read waits until the projection has applied it",
    )


def _mirror_signature(endpoint: Callable[..., Any]) -> inspect.Signature:
    """The endpoint's parameters with annotations resolved, plus ``request`` and the guard."""
    hints = typing.get_type_hints(endpoint, include_extras=True)
    params = []
    for param in inspect.signature(endpoint).parameters.values():
        annotation = hints.get(param.name, param.annotation)
        if annotation in (Request, Response):
            continue
        params.append(param.replace(annotation=annotation, kind=inspect.Parameter.KEYWORD_ONLY))
    params.append(inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request))
    params.append(
        inspect.Parameter("principal", inspect.Parameter.KEYWORD_ONLY, annotation=CurrentPrincipal)
    )
    return inspect.Signature(params)


def mirror_service_routes(
    router: APIRouter, service_router: APIRouter, service: str
) -> list[tuple[str, re.Pattern[str], str, str]]:
    """Every route of ``service_router`` under /v1, forwarded to ``service``'s base URL;
    the (method, path pattern, route id, service) of each, for the forwarding middleware."""
    mirrored: list[tuple[str, re.Pattern[str], str, str]] = []
    for route in service_router.routes:
        if not isinstance(route, APIRoute):
            continue
        response_model = GatewayAccepted if route.response_model is Accepted else None
        for method in sorted(route.methods or ()):

            async def forward(**kwargs: Any) -> Response:
                return await _forward(kwargs["request"], kwargs["principal"], service)

            forward.__signature__ = _mirror_signature(route.endpoint)  # type: ignore[attr-defined]
            forward.__doc__ = route.endpoint.__doc__
            router.add_api_route(
                route.path,
                forward,
                methods=[method],
                status_code=route.status_code,
                response_model=response_model,
                response_class=route.response_class,  # type: ignore[arg-type]
                responses={**route.responses, **COMMON_RESPONSES, 503: _problem_response(
                    f"The {service} service did not answer; retry")},
                tags=route.tags,
                summary=route.summary,
                description=route.description,
                name=f"{service}_{route.name}",
                operation_id=f"{method.lower()}_{route.name}",
            )  # fmt: skip
            path = f"{router.prefix}{route.path}"
            mirrored.append((method, compile_path(path)[0], f"{method} {path}", service))
    return mirrored


@functools.cache
def _service_root(base: str) -> yarl.URL:
    return yarl.URL(base)  # parsed once per service, not per request


def upstream_url(base: str, path: str, query_string: bytes) -> yarl.URL:
    """The service's URL for a gateway path: the service's own host, whatever the path.

    ``path`` is the decoded path the route was matched on; it is re-encoded here, so an
    encoded ``%2F``, ``@`` or ``:`` can neither escape the path nor change the host.
    """
    service_path = path.removeprefix("/v1")
    if not service_path.startswith("/") or any(
        segment in ("", ".", "..") for segment in service_path.split("/")[1:]
    ):
        raise GatewayProblem(404, "Not Found", "no such resource", "not-found")
    root = _service_root(base)
    query = urlencode(QueryParams(query_string.decode("latin-1")).multi_items())
    return yarl.URL.build(
        scheme=root.scheme, host=root.raw_host or "", port=root.explicit_port,
        path=root.raw_path.rstrip("/") + quote(service_path, safe="/"),
        query_string=query, encoded=True,
    )  # fmt: skip


@dataclass(frozen=True)
class Upstream:
    status: int
    headers: dict[str, str]
    content: bytes
    media_type: str


async def forward(
    runtime: GatewayRuntime,
    service: str,
    method: str,
    path: str,
    query_string: bytes,
    request_headers: Headers,
    body: bytes,
    principal: Principal,
    correlation_id: str,
) -> Upstream:
    """Send a request to the service that owns it; its answer, with a consistency token."""
    headers = {k: v for k in FORWARDED_REQUEST_HEADERS if (v := request_headers.get(k))}
    headers["x-correlation-id"] = correlation_id
    # Who is calling, for the service's own record-level rules (a deal's team). Built
    # here from the verified credentials: a client's own X-Actor-* headers never pass.
    # Percent-encoded: HTTP header values are Latin-1 on the way in, and "José" is not.
    headers["x-actor-id"] = quote(principal.subject, safe="")
    headers["x-actor-role"] = quote(principal.role, safe="")
    if principal.team:
        headers["x-actor-team"] = quote(principal.team, safe="")
    url = upstream_url(runtime.settings.sales_url, path, query_string)
    try:
        async with runtime.http.request(
            method, url, data=body or None, headers=headers
        ) as upstream:
            content = await upstream.read()
            status = upstream.status
            upstream_headers = upstream.headers
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("gateway.upstream_unavailable", service=service, error=repr(exc))
        raise unavailable(f"the {service} service") from None
    out_headers = {k: v for k in FORWARDED_RESPONSE_HEADERS if (v := upstream_headers.get(k))}
    media_type = upstream_headers.get("content-type", "application/json")
    if (
        200 <= status < 300
        and media_type.startswith("application/json")
        and b"event_ids" in content
    ):
        answer = orjson.loads(content)
        if isinstance(answer, dict) and isinstance(answer.get("event_ids"), list):
            token = make_token(SALES_SOURCE, answer["event_ids"])
            answer["consistency_token"] = token
            out_headers["x-consistency-token"] = token
            content = orjson.dumps(answer)
    return Upstream(status, out_headers, content, media_type)


async def _forward(request: Request, principal: Principal, service: str) -> Response:
    """The FastAPI route's way (the forwarding middleware normally answers first)."""
    scope = request.scope
    upstream = await forward(
        _runtime(request), service, request.method,
        scope["path"],
        scope.get("query_string", b""), request.headers, await request.body(), principal,
        scope["state"]["correlation_id"],
    )  # fmt: skip
    return Response(
        upstream.content, status_code=upstream.status, headers=upstream.headers,
        media_type=upstream.media_type,
    )  # fmt: skip


class ForwardingMiddleware:
    """The fast path for the routes a service owns: authenticate, admit, forward.

    The FastAPI routes of those operations describe them in the OpenAPI document (bodies,
    answers, problems); at run time this middleware answers first, without decoding and
    validating the body a second time: the owning service validates it and answers with
    the same problem documents, naming the field.
    """

    def __init__(self, app: ASGIApp, routes: list[tuple[str, re.Pattern[str], str, str]]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        matched = next(
            (r for r in self.routes if r[0] == method and r[1].match(path) is not None), None
        )
        if matched is None:
            await self.app(scope, receive, send)
            return
        _, _, rid, service = matched
        runtime: GatewayRuntime = scope["app"].state.gateway
        headers = Headers(scope=scope)
        try:
            principal = identify(runtime, headers, scope.get("client"))
            admit(runtime, principal, rid)
            body = await _read_body(receive)
            upstream = await forward(
                runtime, service, method, path, scope.get("query_string", b""), headers,
                body, principal, scope["state"]["correlation_id"],
            )  # fmt: skip
        except GatewayProblem as exc:
            await send_problem(send, exc.status, exc.title, exc.detail, exc.kind, exc.headers)
            return
        raw_headers = [
            (b"content-type", upstream.media_type.encode("latin-1")),
            (b"content-length", str(len(upstream.content)).encode()),
            *[(k.encode("latin-1"), v.encode("latin-1")) for k, v in upstream.headers.items()],
        ]
        await send({"type": "http.response.start", "status": upstream.status,
                    "headers": raw_headers})  # fmt: skip
        await send({"type": "http.response.body", "body": upstream.content})


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


# ----------------------------------------------------------------------------- reads
class TimelineEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    event_source: str
    event_id: str
    customer_id: str
    named_customer_id: str
    occurred_at: datetime
    context: str
    origin: Literal["internal", "external"]
    channel: str
    event_type: str
    summary: str
    actor: str | None = None
    links: dict[str, str] = {}
    stream_id: str | None = None
    stream_version: int | None = None
    correlation_id: str | None = None
    payload: dict[str, Any]
    projected_at: datetime


class TimelinePage(BaseModel):
    customer_id: str = Field(description="Whose timeline: the survivor if the id was merged")
    entries: list[TimelineEntry]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page")
    read_your_writes: Literal["applied", "pending"] | None = None


class SearchHit(BaseModel):
    customer_id: str
    display_name: str | None = None
    company_name: str | None = None
    city: str | None = None
    state: str | None = None
    lifecycle: str | None = None
    score: float


class SearchResult(BaseModel):
    hits: list[SearchHit]


WaitFor = Annotated[
    str | None,
    Query(max_length=2048, description="A command's consistency_token: wait until applied"),
]
WaitSeconds = Annotated[float, Query(ge=0, le=10, description="How long to wait at most")]

reads_router = APIRouter(
    responses={
        **COMMON_RESPONSES,
        422: _problem_response("Invalid parameter (names it)"),
        503: _problem_response("The read model is not available yet"),
    }
)


async def _wait(request: Request, projection: str, token: str | None, seconds: float) -> str | None:
    if token is None:
        return None
    runtime = _runtime(request)
    try:
        done = await runtime.projections.wait_applied(
            projection, token, min(seconds, runtime.settings.max_wait_seconds)
        )
    except BadToken as exc:
        raise GatewayProblem(422, "Invalid request", f"wait_for: {exc}", "validation") from None
    return "applied" if done else "pending"


@reads_router.get(
    "/customers/{customer_id}",
    response_model=Profile,
    tags=["customers"],
    responses={404: _problem_response("No such customer")},
)
async def customer_360(
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
    customer_id: Annotated[str, Field(min_length=1, max_length=200)],
    wait_for: WaitFor = None,
    wait: WaitSeconds = 5.0,
) -> Any:
    """The customer 360 view: identity, owner, lifecycle stage, deals, orders, lifetime
    value, last interaction. A merged customer answers with `merged_into`."""
    state = await _wait(request, "customer360", wait_for, wait)
    if state is not None:
        response.headers["X-Read-Your-Writes"] = state
    async with read_connection(request) as conn:
        profile = await _read_model(get_profile(conn, customer_id))
        if profile is None:
            raise GatewayProblem(404, "Not found", f"no customer {customer_id!r}", "not-found")
        scope = DealScope(principal, _runtime(request).rules)
        return await _read_model(scope.profile(conn, profile))


@reads_router.get("/customers/{customer_id}/timeline", response_model=TimelinePage,
                  tags=["customers"])  # fmt: skip
async def customer_timeline(
    principal: CurrentPrincipal,
    request: Request,
    customer_id: Annotated[str, Field(min_length=1, max_length=200)],
    context: Annotated[
        list[str] | None, Query(max_length=20, description="e.g. sales, support, external")
    ] = None,
    event_type: Annotated[list[str] | None, Query(alias="type", max_length=50)] = None,
    since: Annotated[AwareDatetime | None, Query(description="occurred at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="occurred before")] = None,
    as_of: Annotated[
        AwareDatetime | None, Query(description="the timeline as it stood then")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    order: Literal["newest", "oldest"] = "newest",
    wait_for: WaitFor = None,
    wait: WaitSeconds = 5.0,
) -> Any:
    """One page of the unified timeline, newest first by default; `next_cursor` pages on."""
    state = await _wait(request, "timeline", wait_for, wait)
    async with read_connection(request) as conn:
        whose = await _read_model(survivor_of(conn, customer_id))
        try:
            found = await _read_model(page(
                conn, whose, contexts=context, event_types=event_type, since=since,
                until=until, as_of=as_of, cursor=cursor, limit=limit,
                newest_first=order == "newest",
            ))  # fmt: skip
        except ValueError as exc:
            raise GatewayProblem(422, "Invalid request", str(exc), "validation") from None
        # Entries of another team's deals are left out for sellers and managers; the
        # cursor still stands where the page ended, so paging goes on.
        entries = await DealScope(principal, _runtime(request).rules).entries(
            conn, whose, found.entries
        )
    return {
        "customer_id": whose,
        "entries": entries,
        "next_cursor": found.next_cursor,
        "read_your_writes": state,
    }


@reads_router.get(
    "/customers/{customer_id}/timeline/stream",
    tags=["customers"],
    response_class=StreamingResponse,
    responses={200: {"description": "Server-Sent Events: `timeline-entry` events, JSON data "
                     "as in the timeline page; `id` resumes with Last-Event-ID",
                     "content": {"text/event-stream": {}}}},
)  # fmt: skip
async def customer_timeline_stream(
    principal: CurrentPrincipal,
    request: Request,
    customer_id: Annotated[str, Field(min_length=1, max_length=200)],
) -> StreamingResponse:
    """Live updates of a customer's timeline (Server-Sent Events), from now on or from the
    `Last-Event-ID` the browser sends when it reconnects."""
    runtime = _runtime(request)
    last = request.headers.get("last-event-id")
    async with read_connection(request) as conn:
        whose = await _read_model(survivor_of(conn, customer_id))
        if last:
            try:
                start = decode_position(last)
            except ValueError as exc:
                raise GatewayProblem(422, "Invalid request", str(exc), "validation") from None
        else:  # the database's clock, as the entries' projected_at
            start = (await conn.fetchval("SELECT clock_timestamp()"), "", "")
    client = principal.client_id
    if runtime.streams.get(client, 0) >= runtime.settings.max_streams_per_client:
        raise GatewayProblem(
            429, "Too many live streams",
            f"at most {runtime.settings.max_streams_per_client} open streams per client",
            "rate-limited", {"Retry-After": "5"},
        )  # fmt: skip
    scope = DealScope(principal, runtime.rules)

    async def visible(conn: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return await scope.entries(conn, whose, entries)

    async def counted() -> AsyncIterator[bytes]:
        runtime.streams[client] = runtime.streams.get(client, 0) + 1
        try:
            async for chunk in live_entries(
                runtime.pool, whose, start, visible, request.is_disconnected, runtime.stop,
                ends_at=principal.expires_at,
            ):  # fmt: skip
                yield chunk
        finally:
            runtime.streams[client] -= 1
            if runtime.streams[client] <= 0:
                del runtime.streams[client]

    return StreamingResponse(
        counted(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@reads_router.get("/search", response_model=SearchResult, tags=["customers"])
async def search_customers(
    principal: CurrentPrincipal,
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=300, description="name, company, city, "
                            "tax id, phone or e-mail, as typed")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:  # fmt: skip
    """Find customers: exact identifiers first, then names tolerant of accents and typos."""
    async with read_connection(request) as conn:
        hits = await _read_model(search(conn, q, limit=limit))
    return {"hits": hits}


@contextlib.asynccontextmanager
async def read_connection(request: Request) -> AsyncIterator[Any]:
    """A connection of the read pool, or 503 when none frees up in time."""
    try:
        connection = await _runtime(request).pool.acquire(timeout=5)
    except TimeoutError:
        raise unavailable("the read database (all connections busy)") from None
    try:
        yield connection
    finally:
        await _runtime(request).pool.release(connection)


async def _read_model(read: Awaitable[Any]) -> Any:
    try:
        return await read
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
        raise unavailable("the read model (projection not built yet)", 2) from None


async def publish_events(principal: CurrentPrincipal, request: Request) -> Any:
    """Publish CloudEvents from another system: one event, or a batch of up to 500.

    Each is validated against `contracts/` (envelope, type, schema version, data) and the
    valid ones are published to `crm.external.events`; the answer says event by event
    what happened. A single invalid event answers 422; re-sending an event is safe."""
    runtime = _runtime(request)
    items, batch = external_events.read_events(
        await request.body(), request.headers.get("content-type", ""),
        runtime.settings.max_batch_events,
    )  # fmt: skip
    try:
        producer = await runtime.producer.get()
        return await external_events.publish(
            producer, runtime.settings.events_topic, items, batch,
            request.scope["state"].get("correlation_id"), principal.sources,
        )  # fmt: skip
    except GatewayProblem as exc:
        if exc.status == 503:
            await runtime.producer.drop()
        raise
    except KafkaError:
        await runtime.producer.drop()
        raise unavailable("the event backbone") from None


# ------------------------------------------------------------------------ the app
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
            if has_body and not (ctype in JSON_TYPES or ctype.endswith("+json")):
                await send_problem(
                    send, 415, "Unsupported media type",
                    f"send JSON (application/json), not {ctype or 'no content type'}",
                    "unsupported-media-type",
                )  # fmt: skip
                return
        await self.app(scope, receive, send)


def create_app(
    runtime: GatewayRuntime | None = None, settings: GatewaySettings | None = None
) -> FastAPI:
    settings = settings or (runtime.settings if runtime else GatewaySettings())
    app = FastAPI(
        title="OpenCRM gateway API",
        version="1.0.0",
        description=(
            "The CRM's front door for front-end teams and other systems. Authenticate with "
            "`Authorization: Bearer <JWT>` (people) or `X-API-Key` (systems). Errors are RFC "
            "9457 problem documents. Commands answer with a `consistency_token`: pass it as "
            "`wait_for` to a read to see your own write. Topics and event contracts: "
            "`/asyncapi.json`."
        ),
        openapi_tags=[
            {"name": "customers", "description": "accounts, contacts, 360 view, timeline, search"},
            {"name": "events", "description": "other systems publish CloudEvents"},
        ],
    )
    install_problem_handlers(app)

    @app.exception_handler(GatewayProblem)
    async def gateway_problem(_: Request, exc: GatewayProblem) -> JSONResponse:
        response = problem(exc.status, exc.title, exc.detail, PROBLEM_BASE + exc.kind, **exc.extra)
        for k, v in exc.headers.items():
            response.headers[k] = v
        return response

    v1 = APIRouter(prefix="/v1")
    forwarded = mirror_service_routes(v1, sales_router, "sales")
    v1.include_router(reads_router)
    v1.add_api_route(
        "/events", publish_events, methods=["POST"], response_model=external_events.EventsAnswer,
        tags=["events"], openapi_extra={"requestBody": external_events.REQUEST_BODY},
        responses={
            **COMMON_RESPONSES,
            400: _problem_response("Malformed JSON"),
            413: _problem_response("Too many events or too large a body"),
            415: _problem_response("Not JSON"),
            422: _problem_response("A single event that does not match its contract"),
            503: _problem_response("The event backbone did not acknowledge; re-send"),
        },
    )  # fmt: skip
    app.include_router(v1)

    document = app.openapi

    def openapi_with_security() -> dict[str, Any]:
        if app.openapi_schema is None:
            describe_security(document())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi_with_security  # type: ignore[method-assign]

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> Response:
        return Response(ASYNCAPI_FILE.read_bytes(), media_type="application/json")

    if runtime is not None:
        app.state.gateway = runtime
    app.add_middleware(ForwardingMiddleware, routes=forwarded)
    app.add_middleware(ContentTypeMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match",
                           "X-Correlation-Id", "X-API-Key", "Last-Event-ID"],
            expose_headers=["X-Correlation-Id", "X-Consistency-Token", "X-Read-Your-Writes",
                            "Retry-After", "Content-Disposition"],
            max_age=600,
        )  # fmt: skip
    app.add_middleware(CorrelationMiddleware)
    return app


SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "People: a JWT from the key ring (`crm auth token`)"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "Other systems: `crm_<id>_<secret>` (`crm auth api-key`); "
               "`Authorization: ApiKey <key>` works too"},
}  # fmt: skip
_GATEWAY_ANSWERS = {
    "413": _problem_response("The body is larger than the gateway accepts"),
    "415": _problem_response("The body is not JSON"),
}
_IF_MATCH = {
    "name": "If-Match", "in": "header", "required": False,
    "description": "The record's version you read: a stale one answers 409",
    "schema": {"type": "string", "maxLength": 20, "examples": ["3"]},
}  # fmt: skip


def describe_security(document: dict[str, Any]) -> None:
    """What a dependency cannot tell FastAPI: how to authenticate, and what the gateway
    itself answers before a service sees the request."""
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in document["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, operation in operations.items():
            operation["security"] = [{"bearer": []}, {"apiKey": []}]
            if method == "post":
                for status, answer in _GATEWAY_ANSWERS.items():
                    operation["responses"].setdefault(status, answer)
                if "{" in path and path != "/v1/events":  # a command on one record
                    names = {p.get("name") for p in operation.get("parameters", [])}
                    if "If-Match" not in names:
                        operation.setdefault("parameters", []).append(_IF_MATCH)


def documented_routes(app: FastAPI) -> list[str]:
    """Every ``METHOD /path`` of the OpenAPI document."""
    methods = {"get", "post", "put", "patch", "delete"}
    return [
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method in methods
    ]


def unguarded_routes(app: FastAPI) -> list[str]:
    """Routes under /v1 that the matrix does not mention (a test keeps this empty)."""
    return [
        r
        for r in documented_routes(app)
        if r.split(" ", 1)[1].startswith("/v1") and r not in MATRIX
    ]


__all__ = ["ADMIN", "ANALYST", "GatewayRuntime", "GatewaySettings", "create_app"]
