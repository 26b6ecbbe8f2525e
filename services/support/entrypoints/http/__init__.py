"""The support API (FastAPI), behind the gateway at ``/v1/support``: cases, problems,
knowledge, satisfaction and self-service. Routes only translate; the rules and the SQL
are in ``services.support.application``. Errors are RFC 9457 problem documents.

Every POST accepts ``Idempotency-Key`` (a repeat returns the first answer, appends
nothing) and ``X-Correlation-Id`` (carried onto the events).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from services.platform.problems import install_problem_handlers
from services.support.application.runtime import SupportRuntime
from services.support.entrypoints.http import (
    articles,
    cases,
    kpis,
    mail,
    orders,
    problems,
    sla,
    sla_kpis,
    surveys,
)

RESOURCES = [cases, problems, articles, surveys, kpis, orders, sla, sla_kpis, mail]
"""Each resource module's ``router``; a part of the service adds its own here."""


def create_app(runtime: SupportRuntime | None = None) -> FastAPI:
    app = FastAPI(
        title="CRM customer-service (support) service",
        version="0.1.0",
        description="Cases, SLA clocks, problems, knowledge, satisfaction, self-service.",
    )
    install_problem_handlers(app)
    # One router of plain routes: the gateway mirrors them from the contract.
    router = APIRouter()
    for resource in RESOURCES:
        router.routes.extend(resource.router.routes)
    app.include_router(router)
    if runtime is not None:
        app.state.support = runtime
    return app
