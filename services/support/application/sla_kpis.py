"""Service-level KPIs over the read models (``domain.sla_kpis`` does the counting):

* ``sla_kpi``: attainment per metric, policy, team and period from ``sla_clocks`` (each
  case's current cycle per metric: for next_reply, the latest cycle only); business
  minutes to first response and to resolution (median, p90); reopen rate per team from
  ``cases`` (cases reopened at least once ÷ cases ever solved), by the day each opened.
* ``backlog_kpi``: open cases (not solved, not closed) by status, team and priority, each
  with calendar-age and business-age buckets (business age in its policy's calendar).

Days are local days in the business time zone (``config/satisfaction.json``), the same
as the satisfaction KPIs; ``from`` / ``to`` bound the settling day (both included).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from services.support.application.runtime import SupportRuntime
from services.support.application.sla_config_store import current_sla
from services.support.domain.business_hours import business_seconds_between
from services.support.domain.sla_kpis import (
    BUSINESS_AGE,
    CALENDAR_AGE,
    Period,
    SettledClock,
    attainment,
    bucket,
    ratio,
    times,
)

_SETTLED = """
SELECT metric, policy_id, team, fulfilled_at, elapsed_seconds,
       (fulfilled_at IS NOT NULL AND NOT breached) AS met,
       coalesce(fulfilled_at, due_at, updated_at) AS settled_at
FROM sla_clocks
WHERE (fulfilled_at IS NOT NULL) OR breached OR (NOT paused AND due_at <= $1)
"""


def _within(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


async def sla_kpi(deps: SupportRuntime, period: Period, start: date | None,
                  end: date | None) -> dict[str, Any]:  # fmt: skip
    zone = deps.satisfaction.zone
    now = deps.clock()
    settled = []
    for r in await deps.pool.fetch(_SETTLED, now):
        day = r["settled_at"].astimezone(zone).date()
        if _within(day, start, end):
            took = r["elapsed_seconds"] if r["fulfilled_at"] is not None else None
            settled.append(SettledClock(r["metric"], r["policy_id"], r["team"], day, r["met"],
                                        took))  # fmt: skip
    reopen_rows = await deps.pool.fetch(
        "SELECT team, opened_at, reopened > 0 AS reopened FROM cases "
        "WHERE solved_at IS NOT NULL OR reopened > 0"
    )
    solved: Counter[str] = Counter()
    reopened: Counter[str] = Counter()
    for r in reopen_rows:
        if _within(r["opened_at"].astimezone(zone).date(), start, end):
            solved[r["team"]] += 1
            reopened[r["team"]] += int(r["reopened"])
    fulfilled = {m: times(c.business_seconds for c in settled if c.metric == m)
                 for m in ("first_response", "resolution")}  # fmt: skip
    return {
        "period": period, "from": start, "to": end, "as_of": now,
        "groups": attainment(settled, period),
        "business_times": fulfilled,
        "reopen_rate": {
            "solved": sum(solved.values()), "reopened": sum(reopened.values()),
            "rate": ratio(sum(reopened.values()), sum(solved.values())),
            "teams": [{"team": t, "solved": solved[t], "reopened": reopened[t],
                       "rate": ratio(reopened[t], solved[t])} for t in sorted(solved)],
        },
    }  # fmt: skip


async def backlog_kpi(deps: SupportRuntime) -> dict[str, Any]:
    now = deps.clock()
    async with deps.pool.acquire() as conn, conn.transaction():
        sla = await current_sla(conn, deps)
        rows = await conn.fetch(
            "SELECT c.status, c.team, c.priority, c.opened_at, h.policy_id FROM cases c "
            "LEFT JOIN sla_case_histories h USING (case_id) "
            "WHERE c.status NOT IN ('solved', 'closed') ORDER BY c.opened_at"
        )
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["status"], r["team"], r["priority"])
        group = groups.setdefault(key, {
            "status": key[0], "team": key[1], "priority": key[2], "open": 0,
            "calendar_age": dict.fromkeys((b for b, _ in CALENDAR_AGE), 0),
            "business_age": dict.fromkeys((b for b, _ in BUSINESS_AGE), 0),
        })  # fmt: skip
        policy = sla.policies.by_id(r["policy_id"] or "")
        calendar = sla.calendars[policy.calendar_id]
        opened = min(r["opened_at"], now)
        group["open"] += 1
        group["calendar_age"][bucket((now - opened).total_seconds(), CALENDAR_AGE)] += 1
        age = business_seconds_between(calendar, opened, now)
        group["business_age"][bucket(age, BUSINESS_AGE)] += 1
    listed = [groups[k] for k in sorted(groups)]
    return {
        "as_of": now, "open": len(rows), "groups": listed,
        **{f"by_{name}": dict(sorted(Counter(r[name] for r in rows).items()))
           for name in ("status", "team", "priority")},
    }  # fmt: skip
