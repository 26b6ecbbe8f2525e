"""Routes of the satisfaction KPIs, for supervisors and analysts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.platform.decider import DomainError
from services.support.application import satisfaction_kpis
from services.support.domain.csat import CsatGrouping
from services.support.entrypoints.http.common import (
    PROBLEMS,
    Day,
    json_response,
    require_staff,
    runtime,
)

router = APIRouter(tags=["kpis"], responses=PROBLEMS)
From = Annotated[Day | None, Query(alias="from", description="First day, business time")]
To = Annotated[Day | None, Query(alias="to", description="Last day (included)")]


def _staff_only(request: Request, start: date | None, end: date | None) -> None:
    require_staff(request, "KPIs")
    if start and end and start > end:
        raise DomainError("from must not be after to", field="from")


@router.get("/kpis/csat")
async def csat(request: Request, group_by: CsatGrouping = "team", start: From = None,
               end: To = None) -> Response:  # fmt: skip
    """CSAT (satisfied ÷ answered) per team, agent, category, month or ISO week; an
    empty period has zero answered and no score."""
    _staff_only(request, start, end)
    return json_response(await satisfaction_kpis.csat_kpi(runtime(request), group_by, start, end))


@router.get("/kpis/servqual")
async def servqual(request: Request,
                   team: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
                   start: From = None, end: To = None) -> Response:  # fmt: skip
    """Mean SERVQUAL gaps (perception - expectation) per item and dimension, unweighted
    and weighted by the customers' importance points."""
    _staff_only(request, start, end)
    kpi = await satisfaction_kpis.servqual_kpi(runtime(request), team, start, end)
    return json_response(kpi)
