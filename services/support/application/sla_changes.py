"""A supervisor's changes to the SLA configuration: a calendar, the policy set.

Each change, in one transaction under the exclusive configuration lock: check the
version the caller read (``If-Match``), validate (nothing is stored on bad input), store
the next version, recompute the open cases it touches (``sla_recompute``). A change that
alters nothing stores nothing and answers the version in force.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.platform.db import Connection
from services.platform.decider import DomainError
from services.platform.eventstore import WrongExpectedVersion
from services.support.application.runtime import SupportRuntime
from services.support.application.sla_config_store import (
    current_sla,
    last_versions,
    lock_config,
    note_recomputed,
    store_version,
)
from services.support.application.sla_recompute import recompute_open_cases
from services.support.application.sla_settings import SlaSettings
from services.support.domain.sla_versions import (
    SlaConfig,
    changed_policies,
    field_of,
    with_calendar,
    with_policies,
)

CONFIG_STREAM = "support-sla-config"
"""How a version conflict names the configuration (it is a table, not a stream)."""

Edit = Callable[[Connection, SlaConfig], Awaitable[SlaConfig | None]]


async def read_config(deps: SupportRuntime) -> SlaConfig:
    async with deps.pool.acquire() as conn, conn.transaction():
        return (await current_sla(conn, deps)).as_config()


async def change_calendar(deps: SupportRuntime, calendar_id: str, body: Any,
                          expected: int | None, actor: str | None) -> dict[str, Any]:  # fmt: skip
    async def edit(conn: Connection, current: SlaConfig) -> SlaConfig | None:
        last = (await last_versions(conn, "calendars")).get(calendar_id, 0)
        return with_calendar(current, calendar_id, body, last)

    return await _change(deps, f"calendar {calendar_id}", edit, expected, actor)


async def change_policies(deps: SupportRuntime, body: Any, expected: int | None,
                          actor: str | None) -> dict[str, Any]:  # fmt: skip
    async def edit(conn: Connection, current: SlaConfig) -> SlaConfig | None:
        if not isinstance(body, dict) or set(body) != {"policies"}:
            raise ValueError('policies: the body is {"policies": [...]}')
        return with_policies(current, body["policies"], await last_versions(conn, "policies"))

    return await _change(deps, "policies", edit, expected, actor)


async def _change(deps: SupportRuntime, change: str, edit: Edit, expected: int | None,
                  actor: str | None) -> dict[str, Any]:  # fmt: skip
    async with deps.pool.acquire() as conn:
        async with conn.transaction():
            await lock_config(conn)
            current = (await current_sla(conn, deps)).as_config()
            if expected is not None and expected != current.version:
                raise WrongExpectedVersion(CONFIG_STREAM, expected, current.version)
            try:
                after = await edit(conn, current)
            except ValueError as exc:
                raise DomainError(str(exc), field=field_of(exc)) from None
            if after is None:
                return {"version": current.version, "changed": False, "recomputed": 0}
            now = deps.clock()
            await store_version(conn, after, change, actor, now)
            settings = SlaSettings.of(after)
            touched = changed_policies(current, after)
            recomputed = await recompute_open_cases(conn, settings, touched, now)
            await note_recomputed(conn, after.version, recomputed)
        deps.sla = settings  # only once committed: a rolled-back version is never in force
    return {"version": after.version, "changed": True, "recomputed": recomputed}
