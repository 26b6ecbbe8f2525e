"""The privacy API (FastAPI), behind the gateway at ``/v1/privacy``: erasures, legal
holds, access requests (export) and the audit trail. Routes only translate; the rules
and the SQL are in ``services.privacy.application``. Errors are RFC 9457 problems."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from services.platform.problems import install_problem_handlers
from services.privacy.application.runtime import PrivacyRuntime
from services.privacy.entrypoints.http import erasures, holds, subjects
from services.privacy.entrypoints.http.common import install_privacy_problems

# One router of plain routes: the gateway mirrors them from the contract.
router = APIRouter()
for resource in (erasures, holds, subjects):
    router.routes.extend(resource.router.routes)


def create_app(runtime: PrivacyRuntime | None = None) -> FastAPI:
    app = FastAPI(
        title="CRM privacy service",
        version="0.1.0",
        description="Erasure of personal data, legal holds, access requests, audit trail.",
    )
    install_problem_handlers(app)
    install_privacy_problems(app)
    app.include_router(router)
    if runtime is not None:
        app.state.privacy = runtime
    return app
