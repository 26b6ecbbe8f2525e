"""The support service's timers: a solved case closes when its reopen period ends, and
the SLA clocks warn and breach when they fall due (``sla_clocks.fire_due_clocks``), and
late deliveries are refunded when so configured (``refunds.refund_late_deliveries``),
refunds decided but left unrecorded by a crash are completed (``complete_decided_refunds``),
and human recurring failures are scanned for (``human_failures.scan_human_failures``).

Due rows are locked ``FOR UPDATE SKIP LOCKED`` (several workers may run); each timer's
event is appended in its own savepoint with the decider refusing a repeat, so a crash
between any two steps neither loses nor repeats one.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from services.platform.commands import UnitOfWork
from services.platform.logging import get_logger
from services.support.application.cases import OnCase, act_on_case
from services.support.application.due_timers import fire_due
from services.support.application.human_failures import scan_human_failures
from services.support.application.refunds import complete_decided_refunds, refund_late_deliveries
from services.support.application.runtime import SupportRuntime
from services.support.application.sla_clocks import fire_due_clocks
from services.support.domain import case as cs

log = get_logger(__name__)


async def close_after_reopen_period(deps: SupportRuntime, limit: int = 100) -> int:
    """Close the solved cases whose reopen period is over; how many closed."""
    now = deps.clock()

    async def close(uow: UnitOfWork, row: asyncpg.Record) -> None:
        case_id = row["case_id"]
        await act_on_case(uow, OnCase(cs.CloseCase(case_id, now, None, deps.reopen_period)),
                          deps)  # fmt: skip

    return await fire_due(
        deps, "close", "SELECT case_id FROM cases WHERE status = 'solved' AND solved_at <= $1 "
        "ORDER BY solved_at LIMIT $2 FOR UPDATE SKIP LOCKED", (now - deps.reopen_period, limit),
        lambda row: f"timer:close:{row['case_id']}", close,
    )  # fmt: skip


async def run_timers(deps: SupportRuntime, stop: asyncio.Event, every: float = 1.0) -> None:
    while not stop.is_set():
        try:
            while (await fire_due_clocks(deps) + await close_after_reopen_period(deps)
                   + await refund_late_deliveries(deps)
                   + await complete_decided_refunds(deps)) > 0:  # fmt: skip
                pass
            await scan_human_failures(deps)  # a few GROUP BYs: once a tick, not in the loop
        except Exception as exc:  # the loop outlives any single failure
            log.warning("support.timers_retry", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
