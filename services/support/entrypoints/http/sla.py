"""Routes of the SLA configuration: business calendars and the policy set, read by
service staff and analysts, changed by supervisors (a change recomputes open cases).

Every answer carries the configuration's version (body and ``ETag``); a PUT may name the
version it read in ``If-Match`` and gets a 409 if another change came first.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request, Response

from services.platform.decider import DomainError
from services.support.application import sla_changes
from services.support.entrypoints.http.common import (
    PROBLEMS,
    actor,
    if_match,
    json_response,
    require_staff,
    runtime,
)

router = APIRouter(tags=["sla"], responses=PROBLEMS)
CONFIGURERS = {"service_supervisor", "admin"}
CalendarId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def _configurer(request: Request) -> str | None:
    who = actor(request)
    if who.role not in CONFIGURERS:
        raise DomainError("only a service supervisor changes the SLA", code="forbidden")
    return who.actor_id


def _answer(version: int, body: dict[str, Any]) -> Response:
    return json_response({"version": version, **body}, headers={"ETag": f'"{version}"'})


@router.get("/sla/calendars")
async def list_calendars(request: Request) -> Response:
    """Every business calendar of the configuration in force."""
    require_staff(request, "SLA calendars and policies")
    config = await sla_changes.read_config(runtime(request))
    return _answer(config.version, {"calendars": [c.to_dict() for c in config.calendars.values()]})


@router.get("/sla/calendars/{calendar_id}")
async def get_calendar(request: Request, calendar_id: CalendarId) -> Response:
    require_staff(request, "SLA calendars and policies")
    config = await sla_changes.read_config(runtime(request))
    if calendar_id not in config.calendars:
        raise DomainError(f"no calendar {calendar_id!r}", field="calendar_id", code="not-found")
    return _answer(config.version, {"calendar": config.calendars[calendar_id].to_dict()})


@router.put("/sla/calendars/{calendar_id}")
async def put_calendar(request: Request, calendar_id: CalendarId,
                       body: Annotated[dict[str, Any], Body()]) -> Response:  # fmt: skip
    """Create or replace a calendar: ``time_zone``, ``weekly`` (``{"mon": [["09:00",
    "12:00"], ...]}``), ``holidays`` (the company's own dates), ``national_holidays``
    (``BR``, ``AR``, ``BR-SP``...) or ``always_open``. Open cases measured by it are
    recomputed in the same transaction."""
    who = _configurer(request)
    deps = runtime(request)
    done = await sla_changes.change_calendar(deps, calendar_id, body, if_match(request), who)
    config = await sla_changes.read_config(deps)
    calendar = config.calendars[calendar_id].to_dict()
    return _answer(done["version"], {**done, "calendar": calendar})


@router.get("/sla/policies")
async def get_policies(request: Request) -> Response:
    """The policy set in force, in order of precedence (the most specific match wins)."""
    require_staff(request, "SLA calendars and policies")
    config = await sla_changes.read_config(runtime(request))
    return _answer(config.version, {"policies": config.policies.to_dict()})


@router.put("/sla/policies")
async def put_policies(request: Request, body: Annotated[dict[str, Any], Body()]) -> Response:
    """Replace the policy set (``{"policies": [...]}``); every open case whose policy
    changed is recomputed in the same transaction."""
    who = _configurer(request)
    deps = runtime(request)
    done = await sla_changes.change_policies(deps, body, if_match(request), who)
    config = await sla_changes.read_config(deps)
    return _answer(done["version"], {**done, "policies": config.policies.to_dict()})
