"""SLA recomputation benchmark: a calendar change recomputing 100,000 open cases.

The read model is seeded directly in SQL (``sla_case_histories``: each case's status
history, as every command stores it), not through 100,000 commands: the recompute reads
only that table. The histories mix four shapes (just opened; answered; answered and
awaiting a next reply; paused pending), opened over four days of the ``br-business``
calendar under the policies that use it. A first recompute under version 1 writes the
``sla_clocks`` rows (and warms up), then, in alternating rounds:

- change: ``PUT /sla/calendars/br-business`` as its handler runs it (lock, version,
  recompute of every open case, commit), alternating between the calendar without and
  with its lunch break, so every round really moves every deadline;
- bare: ``UPDATE sla_clocks SET due_at = due_at + interval '1 minute'`` of the same rows
  in one transaction: the floor of rewriting them at all.

``VACUUM`` between rounds, so neither side pays for the other's dead rows. Reported:
median seconds of each, and their ratio (target <= 3x); and where the time goes: the
Python derivation of every case timed alone, and its heaviest functions under cProfile.
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.common import Endpoints
from bench.support import fresh_support_schema
from services.platform.db import create_pool
from services.support.application.runtime import SupportRuntime
from services.support.application.sla_changes import change_calendar
from services.support.application.sla_clock_rows import decode_history, derive
from services.support.application.sla_config_store import current_sla
from services.support.application.sla_recompute import recompute_open_cases
from services.support.bootstrap import bootstrap

SCHEMA = "bench_support_sla"
CASES = 100_000
NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # Friday 15:00 in São Paulo
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
WITH_LUNCH = {
    "time_zone": "America/Sao_Paulo",
    "weekly": {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in WEEKDAYS},
    "holidays": [], "national_holidays": ["BR"],
}  # fmt: skip
NO_LUNCH = {**WITH_LUNCH, "weekly": {d: [["09:00", "17:00"]] for d in WEEKDAYS}}

# Opened at t (Mon 2026-11-23 12:00 UTC + up to 4 days); replies and pauses after it.
_SEED = """
INSERT INTO sla_case_histories (case_id, policy_id, is_open, history, team, priority,
                                assignee_id)
SELECT md5('bench-sla-' || n)::uuid,
       (ARRAY['normal', 'high', 'vip'])[1 + n % 3], true,
       CASE n % 4
         WHEN 0 THEN jsonb_build_array(jsonb_build_array(t, 'opened', null))
         WHEN 1 THEN jsonb_build_array(jsonb_build_array(t, 'opened', null),
                                       jsonb_build_array(t + 1800, 'agent_reply', null),
                                       jsonb_build_array(t + 1800, 'status', 'open'))
         WHEN 2 THEN jsonb_build_array(jsonb_build_array(t, 'opened', null),
                                       jsonb_build_array(t + 600, 'agent_reply', null),
                                       jsonb_build_array(t + 600, 'status', 'open'),
                                       jsonb_build_array(t + 7200, 'customer_message', null))
         ELSE jsonb_build_array(jsonb_build_array(t, 'opened', null),
                                jsonb_build_array(t + 900, 'status', 'pending'))
       END,
       'team-' || n % 12, (ARRAY['normal', 'high'])[1 + n % 2], 'agent-' || n % 40
FROM (SELECT n, 1795435200 + (n * 7919) % 345600 AS t
      FROM generate_series(1, $1::int) AS n) AS seeded
"""
_BARE = "UPDATE sla_clocks SET due_at = due_at + interval '1 minute'"


async def bench_support_sla(ep: Endpoints, cases: int = CASES, rounds: int = 3) -> dict[str, Any]:
    await fresh_support_schema(ep.database_url, SCHEMA)
    pool = await create_pool(ep.database_url, SCHEMA, min_size=1, max_size=4)
    try:
        return await _run(pool, cases, rounds)
    finally:
        await pool.close()


async def _run(pool: asyncpg.Pool, cases: int, rounds: int) -> dict[str, Any]:
    deps = bootstrap(pool, clock=lambda: NOW)
    await pool.execute(_SEED, cases)
    async with pool.acquire() as conn, conn.transaction():
        seeded = await recompute_open_cases(conn, await current_sla(conn, deps), None, NOW)
    rows = int(await pool.fetchval("SELECT count(*) FROM sla_clocks"))
    await _vacuum(pool)
    change, bare, recomputed = [], [], []
    for round_ in range(rounds):
        start = time.perf_counter()
        answer = await change_calendar(deps, "br-business",
                                       NO_LUNCH if round_ % 2 == 0 else WITH_LUNCH, None,
                                       "bench")  # fmt: skip
        change.append(time.perf_counter() - start)
        recomputed.append(answer["recomputed"])
        await _vacuum(pool)
        start = time.perf_counter()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(_BARE)
        bare.append(time.perf_counter() - start)
        await _vacuum(pool)
    profile = await _profile(pool, deps)
    value, baseline = statistics.median(change), statistics.median(bare)
    ratio = round(value / baseline, 2)
    return {
        "metric": f"calendar change recomputing {cases:,} open cases' SLA clocks (one "
        "transaction: lock, new version, derive and write every open case)",
        "unit": "s", "value": round(value, 3),
        "baseline": "bare UPDATE sla_clocks SET due_at = due_at + 1 minute of the same rows",
        "baseline_value": round(baseline, 3), "ratio": ratio,
        "target": "<= 3x the bare update", "target_met": ratio <= 3,
        "parameters": {
            "open_cases": cases, "seeded_cases": seeded, "clock_rows": rows, "rounds": rounds,
            "recomputed_per_change": recomputed, "seeding": "direct SQL into "
            "sla_case_histories; sla_clocks written by a first recompute",
            "change_seconds": [round(s, 3) for s in change],
            "bare_seconds": [round(s, 3) for s in bare],
        },
        "profile": profile,
    }  # fmt: skip


async def _vacuum(pool: asyncpg.Pool) -> None:
    await pool.execute("VACUUM (ANALYZE) sla_clocks")
    await pool.execute("VACUUM (ANALYZE) sla_case_histories")


async def _profile(pool: asyncpg.Pool, deps: SupportRuntime) -> dict[str, Any]:
    """Where a recompute's time goes: the Python derivation of every open case alone (no
    database), and its heaviest functions under cProfile (own time, seconds)."""
    rows = await pool.fetch("SELECT case_id, policy_id, history, team, priority, assignee_id "
                            "FROM sla_case_histories WHERE is_open")  # fmt: skip
    sla = deps.sla

    def derive_all() -> None:
        for row in rows:
            policy = sla.policies.by_id(row["policy_id"])
            derive(row["case_id"], policy, sla.calendars[policy.calendar_id],
                   decode_history(row["history"]), NOW, row["team"], row["priority"],
                   row["assignee_id"])  # fmt: skip

    start = time.perf_counter()
    derive_all()
    derive_seconds = time.perf_counter() - start
    profiler = cProfile.Profile()
    profiler.runcall(derive_all)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    heaviest = sorted(stats.items(), key=lambda kv: -kv[1][2])[:8]
    return {
        "derive_in_python_s": round(derive_seconds, 3),
        "top_own_time_s_under_cprofile": {
            f"{path.rsplit('/', 1)[-1]}:{name}": round(own, 3)
            for (path, _, name), (_, _, own, _, _) in heaviest
        },
    }
