"""The gateway's own reads: customer 360, timeline (pages and live), search.

They come from the projections' public query modules and reader schemas, never from a
service; deals of other teams are left out of every field (``services.gateway.scope``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from projections.customer360.model import Profile
from projections.customer360.queries import get_profile, search
from projections.timeline.queries import MAX_LIMIT, page, survivor_of
from services.gateway.access import CurrentPrincipal, runtime_of
from services.gateway.errors import GatewayProblem, unavailable
from services.gateway.openapi import COMMON_RESPONSES, problem_answer
from services.gateway.reads import BadToken, decode_position, live_entries
from services.gateway.scope import DealScope


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
    deal_owner: str | None = Field(None, description="Owner of the linked deal, if any")
    deal_team: str | None = Field(None, description="Team of the linked deal, if any")
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
        422: problem_answer("Invalid parameter (names it)"),
        503: problem_answer("The read model is not available yet"),
    }
)


async def _wait(request: Request, projection: str, token: str | None, seconds: float) -> str | None:
    if token is None:
        return None
    runtime = runtime_of(request)
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
    responses={404: problem_answer("No such customer")},
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
        return DealScope(principal).profile(profile)


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
        entries = DealScope(principal).entries(found.entries)
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
    runtime = runtime_of(request)
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
    scope = DealScope(principal)

    async def visible(conn: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return scope.entries(entries)

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
        scope = DealScope(principal)
        if scope.active:
            # a hit's stage may come from a deal the caller may not see
            for hit in hits:
                profile = await _read_model(get_profile(conn, hit["customer_id"]))
                if profile is not None:
                    hit["lifecycle"] = scope.profile(profile)["lifecycle"]
    return {"hits": hits}


@contextlib.asynccontextmanager
async def read_connection(request: Request) -> AsyncIterator[Any]:
    """A connection of the read pool, or 503 when none frees up in time."""
    try:
        connection = await runtime_of(request).pool.acquire(timeout=5)
    except TimeoutError:
        raise unavailable("the read database (all connections busy)") from None
    try:
        yield connection
    finally:
        await runtime_of(request).pool.release(connection)


async def _read_model(read: Awaitable[Any]) -> Any:
    try:
        return await read
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
        raise unavailable("the read model (projection not built yet)", 2) from None
    except asyncpg.UndefinedColumnError:
        # a live version of a layout this gateway does not know (the timeline's own
        # queries read the previous one): it is being rebuilt
        raise unavailable("the read model (being rebuilt to a new layout)", 5) from None
