"""The gateway: one authenticated, documented front door under ``/v1``.

Each context of the service catalogue is served from its HTTP contract through one
generic forwarder (``services.gateway.forwarding``): its operations, their roles and
their documentation come from the contract, its URL from its catalogue entry. Reads come
from the projections (``services.gateway.read_routes``). Other systems publish
CloudEvents through ``POST /v1/events``. Every route but health and documentation needs
a bearer token or an API key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from contracts.schema_files import ASYNCAPI_FILE
from services.gateway import events as external_events
from services.gateway.errors import GatewayProblem
from services.gateway.forwarding import ForwardingMiddleware, Route, upstream_url
from services.gateway.middleware import (
    BodyLimitMiddleware,
    ContentTypeMiddleware,
    CorrelationMiddleware,
    ProblemCORSMiddleware,
)
from services.gateway.openapi import (
    COMMON_RESPONSES,
    documented_routes,
    gateway_document,
    problem_answer,
    unguarded_routes,
)
from services.gateway.plugged import Plugged, plug_all, route_roles
from services.gateway.policy import ADMIN, ANALYST, GATEWAY_MATRIX
from services.gateway.publish import publish_events
from services.gateway.read_routes import reads_router
from services.gateway.runtime import GatewayRuntime
from services.gateway.settings import GatewaySettings
from services.platform.problems import PROBLEM_BASE, install_problem_handlers, problem

DESCRIPTION = (
    "The CRM's front door for front-end teams and other systems. Authenticate with "
    "`Authorization: Bearer <JWT>` (people) or `X-API-Key` (systems). Errors are RFC "
    "9457 problem documents. Commands answer with a `consistency_token`: pass it as "
    "`wait_for` to a read to see your own write. Topics and event contracts: "
    "`/asyncapi.json`."
)


def create_app(
    runtime: GatewayRuntime | None = None,
    settings: GatewaySettings | None = None,
    contexts: Sequence[Plugged] | None = None,
    environ: Mapping[str, str] | None = None,
) -> FastAPI:
    """The gateway app for ``contexts`` (the catalogue's, from their committed
    contracts, unless given), forwarding to each context's URL."""
    settings = settings or (runtime.settings if runtime else GatewaySettings())
    plugged = plug_all() if contexts is None else tuple(contexts)
    environ = os.environ if environ is None else environ
    app = FastAPI(
        title="OpenCRM gateway API",
        version="1.0.0",
        description=DESCRIPTION,
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
    v1.include_router(reads_router)
    v1.add_api_route(
        "/events", publish_events, methods=["POST"], response_model=external_events.EventsAnswer,
        tags=["events"], openapi_extra={"requestBody": external_events.REQUEST_BODY},
        responses={
            **COMMON_RESPONSES,
            400: problem_answer("Malformed JSON"),
            413: problem_answer("Too large a body"),
            415: problem_answer("Not JSON"),
            422: problem_answer("A single event that does not match its contract, an empty "
                                "batch, or more events than a batch may hold"),
            503: problem_answer("The event backbone did not acknowledge; re-send"),
        },
    )  # fmt: skip
    app.include_router(v1)
    app.state.route_roles = route_roles(GATEWAY_MATRIX, plugged)
    own_document = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = gateway_document(own_document(), plugged)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> Response:
        return Response(ASYNCAPI_FILE.read_bytes(), media_type="application/json")

    if runtime is not None:
        app.state.gateway = runtime
    routes = [
        Route(op, entry.base_url(settings.upstreams, environ), entry.context.path_prefix)
        for entry in plugged
        for op in entry.operations
    ]
    app.add_middleware(ForwardingMiddleware, routes=routes)
    app.add_middleware(ContentTypeMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match",
                           "X-Correlation-Id", "X-API-Key", "Last-Event-ID"],
            expose_headers=["X-Correlation-Id", "X-Consistency-Token", "X-Read-Your-Writes",
                            "Retry-After", "Content-Disposition"],
            max_age=600,
        )  # fmt: skip
    app.add_middleware(CorrelationMiddleware)
    return app


__all__ = [
    "ADMIN",
    "ANALYST",
    "GatewayRuntime",
    "GatewaySettings",
    "create_app",
    "documented_routes",
    "unguarded_routes",
    "upstream_url",
]
