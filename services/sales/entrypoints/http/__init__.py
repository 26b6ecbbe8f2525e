"""The sales command API (FastAPI). The gateway fronts it; it is usable on its own.

Every POST accepts ``Idempotency-Key`` (a repeat returns the first answer, appends
nothing) and ``X-Correlation-Id`` (carried onto the events). Errors are RFC 9457 problem
documents naming the field at fault. Routes only translate: each builds a command and
sends it to its handler (``services.sales.application.handlers``).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from services.sales.application.runtime import SalesRuntime
from services.sales.entrypoints.http import (
    accounts,
    activities,
    contacts,
    leads,
    opportunities,
    orders,
    quotes,
)
from services.sales.entrypoints.http.schemas import Accepted, Problem

# One router of plain routes (not included sub-routers): the gateway mirrors its APIRoutes.
router = APIRouter()
for resource in (accounts, contacts, leads, opportunities, quotes, orders, activities):
    router.routes.extend(resource.router.routes)


def create_app(runtime: SalesRuntime | None = None) -> FastAPI:
    from services.platform.problems import install_problem_handlers

    app = FastAPI(
        title="CRM sales service",
        version="0.2.0",
        description="Accounts, contacts, leads, opportunities, quotes, orders, activities.",
    )
    install_problem_handlers(app)
    app.include_router(router)
    if runtime is not None:
        app.state.sales = runtime
    return app


__all__ = ["Accepted", "Problem", "create_app", "router"]
