"""Follow-up reminders: emit `follow_up_due` exactly once when a follow-up falls due.

A timer row is written with the FollowUpScheduled event. The scheduler locks due rows
(``FOR UPDATE SKIP LOCKED``, so several schedulers can run), appends FollowUpDue and
marks the row fired in one transaction; the decider refuses a second FollowUpDue, so a
crash between any two steps neither loses nor repeats a reminder.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import asyncpg

from services.platform.commands import UnitOfWork
from services.platform.eventstore import CommandContext, EventStore
from services.platform.logging import get_logger
from services.sales.domain import activity as act

log = get_logger(__name__)


async def fire_due_follow_ups(
    pool: asyncpg.Pool, store: EventStore, now: datetime | None = None, limit: int = 100
) -> int:
    """Fire the follow-ups due at ``now``; return how many fired."""
    moment = now or datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT follow_up_id FROM follow_up_timers WHERE fired_at IS NULL AND due_at <= $1 "
            "ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            moment,
            limit,
        )
        fired = 0
        for row in rows:
            follow_up_id = row["follow_up_id"]
            uow = UnitOfWork(conn, store, CommandContext(causation_id=f"timer:{follow_up_id}"))
            try:
                async with conn.transaction():  # one bad timer must not block the others
                    await uow.execute(
                        act.follow_up_decider,
                        act.follow_up_stream_id(follow_up_id),
                        act.MarkFollowUpDue(follow_up_id, moment),
                    )
                    await conn.execute(
                        "UPDATE follow_up_timers SET fired_at = $2 WHERE follow_up_id = $1",
                        follow_up_id,
                        moment,
                    )
                fired += 1
            except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
                raise
            except Exception as exc:
                log.error("scheduler.timer_failed", follow_up_id=str(follow_up_id), error=repr(exc))
    return fired


async def run_scheduler(
    pool: asyncpg.Pool, store: EventStore, stop: asyncio.Event, every: float = 1.0
) -> None:
    while not stop.is_set():
        try:
            while await fire_due_follow_ups(pool, store) > 0:
                pass
        except Exception as exc:  # the loop outlives any single failure
            log.warning("scheduler.retry", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
