"""Routes of the service-level KPIs (SLA attainment, business times, reopen rate,
backlog and ageing), for supervisors and analysts."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.support.application import sla_kpis
from services.support.domain.sla_kpis import Period
from services.support.entrypoints.http.common import PROBLEMS, json_response, runtime
from services.support.entrypoints.http.kpis import From, To, _staff_only

router = APIRouter(tags=["kpis"], responses=PROBLEMS)


@router.get("/kpis/sla")
async def sla(request: Request, period: Period = "week", start: From = None,
              end: To = None) -> Response:  # fmt: skip
    """SLA attainment (met ÷ settled) per metric, policy, team and period (day, ISO week,
    month); business minutes to first response and resolution (median, p90); reopen rate."""
    _staff_only(request, start, end)
    return json_response(await sla_kpis.sla_kpi(runtime(request), period, start, end))


@router.get("/kpis/backlog")
async def backlog(request: Request) -> Response:
    """Open cases by status, team and priority, with calendar and business ageing."""
    _staff_only(request, None, None)
    return json_response(await sla_kpis.backlog_kpi(runtime(request)))
