"""Human recurring failures: a team's or an agent's abnormal reopen rate or low CSAT,
found by a scan the support timers run.

The window is a fixed calendar period (``human_window_days`` days counted from the Unix
epoch) so that "once per (team or agent, indicator, window)" has a name: the group id
holds the window's first day, and its stream takes one detection only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from services.platform.commands import UnitOfWork
from services.support.application.runtime import SupportRuntime
from services.support.domain import recurring_failure as rf

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Indicator = Literal["reopen_rate", "low_satisfaction"]

# Per (who, indicator): (value, cases in the sample). Reopen rate: of the cases solved in
# the window, the share reopened at least once. CSAT: satisfied ÷ answered in the window.
_REOPENS = """
SELECT {who} AS who, count(*) AS sample, avg((reopened > 0)::int)::float AS value
FROM cases WHERE solved_at >= $1 AND solved_at < $2 AND {who} IS NOT NULL AND {who} <> ''
GROUP BY {who} HAVING count(*) >= $3 AND avg((reopened > 0)::int) >= $4"""
_CSAT = """
SELECT {who} AS who, count(*) AS sample, avg(satisfied::int)::float AS value
FROM survey_ratings WHERE rated_at >= $1 AND rated_at < $2 AND {who} IS NOT NULL
AND {who} <> '' GROUP BY {who} HAVING count(*) >= $3 AND avg(satisfied::int) < $4"""


def window_of(now: datetime, days: int) -> tuple[datetime, datetime]:
    start = EPOCH + timedelta(days=((now - EPOCH).days // days) * days)
    return start, start + timedelta(days=days)


async def scan_human_failures(deps: SupportRuntime) -> int:
    """Detect this window's human failures not detected yet; how many were new."""
    rules, now = deps.recurring, deps.clock()
    start, end = window_of(now, rules.human_window_days)
    found = 0
    checks: list[tuple[Indicator, str, str, float]] = [
        ("reopen_rate", _REOPENS, "team", rules.max_reopen_rate),
        ("reopen_rate", _REOPENS, "assignee_id", rules.max_reopen_rate),
        ("low_satisfaction", _CSAT, "team", rules.min_csat),
        ("low_satisfaction", _CSAT, "agent_id", rules.min_csat),
    ]
    for indicator, query, who, threshold in checks:
        rows = await deps.pool.fetch(query.format(who=who), start, end, rules.min_sample,
                                     threshold)  # fmt: skip
        for row in rows:
            kind = "team" if who == "team" else "agent"
            group_id = f"human:{indicator}:{kind}:{row['who']}:{start:%Y-%m-%d}"
            found += await _detect(deps, group_id, indicator, kind, row["who"], row["value"],
                                   row["sample"], threshold, now)  # fmt: skip
    return found


async def _detect(deps: SupportRuntime, group_id: str, indicator: Indicator, kind: str,
                  who: str, value: float, sample: int, threshold: float,
                  now: datetime) -> int:  # fmt: skip
    rules = deps.recurring
    team, agent = (who, None) if kind == "team" else (None, who)

    async def work(uow: UnitOfWork) -> dict[str, bool]:
        result = await uow.execute(rf.decider, rf.stream_id(group_id), rf.DetectFailure(
            group_id, "human", indicator, round(value, 4), threshold, rules.human_window_days,
            f"{indicator} over {sample} cases in a {rules.human_window_days}-day window",
            now, team=team, agent_id=agent,
        ))  # fmt: skip
        if result.event_ids:
            await uow.conn.execute(
                "INSERT INTO recurring_failures (group_id, kind, indicator, team, agent_id, "
                "cases, value, threshold, window_days, detected_at, last_case_at) "
                "VALUES ($1, 'human', $2, $3, $4, $5, $6, $7, $8, $9, $9) "
                "ON CONFLICT DO NOTHING",
                group_id, indicator, team, agent, sample, value, threshold,
                rules.human_window_days, now,
            )  # fmt: skip
        return {"new": bool(result.event_ids)}

    exists = await deps.pool.fetchval("SELECT 1 FROM recurring_failures WHERE group_id = $1",
                                      group_id)  # fmt: skip
    if exists:
        return 0
    answer, _ = await deps.commands.run(work, idempotency_key=f"detect:{group_id}")
    return 1 if answer.get("new") else 0
