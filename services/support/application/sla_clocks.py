"""The SLA clocks of each case, derived from its history in every command's transaction,
and the timers that emit their warnings and breaches exactly once.

``refresh_clocks`` folds the case's status history (``Case.sla_history``) through
``domain.sla.clocks`` under the policy and calendar the case records, and stores one row
per metric: nothing is counted in place, so a reply, a pause or a reopen simply gives the
new deadlines. ``fire_due_clocks`` locks the rows whose warning or due instant has come
(``FOR UPDATE SKIP LOCKED``: several workers may run), appends ``SlaWarning`` /
``SlaBreached`` through the case decider (which refuses a repeat of the same metric and
cycle) and marks the row, in one transaction: a crash between any two steps neither loses
nor repeats one. A paused clock has no due instant, so it never fires. A warning that
comes due while its calendar is closed (reached at the closing instant, or a timer that
ran late) is moved to the calendar's next opening instead: no page at night for a
business-hours SLA; a 24/7 calendar is always open, so it warns at any hour. A breach is
emitted when due, whatever the hour: it is a fact, not a page.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from contracts.events.support_quality import SlaBreached, SlaWarning
from services.platform.commands import UnitOfWork
from services.platform.db import Connection
from services.support.application.due_timers import fire_due
from services.support.application.sla_clock_rows import (
    CLOSED,
    decode_history,
    derive,
    encode_history,
    write_clocks,
)
from services.support.application.sla_config_store import current_sla, share_config
from services.support.domain import case as cs
from services.support.domain.business_hours import is_open, next_opening
from services.support.domain.case import Case

if TYPE_CHECKING:
    from services.support.application.runtime import SupportRuntime


async def refresh_clocks(conn: Connection, deps: SupportRuntime, case_id: UUID, state: Case,
                         now: datetime) -> None:  # fmt: skip
    """Recompute and store the case's clocks (see ``domain.sla``) under the configuration
    in force, and the history they come from (for a recompute after a change)."""
    await share_config(conn)
    sla = await current_sla(conn, deps)
    policy = sla.policies.by_id(state.sla_policy[0])
    calendar = sla.calendars[policy.calendar_id]
    history = encode_history(state.sla_history)
    found = derive(case_id, policy, calendar, decode_history(history), now, state.team,
                   state.priority, state.assignee_id)  # fmt: skip
    await write_clocks(conn, [found], now)
    await conn.execute(
        """
        INSERT INTO sla_case_histories (case_id, policy_id, is_open, history, team, priority,
                                        assignee_id)
        VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
        ON CONFLICT (case_id) DO UPDATE SET policy_id = excluded.policy_id,
            is_open = excluded.is_open, history = excluded.history, team = excluded.team,
            priority = excluded.priority, assignee_id = excluded.assignee_id
        """,
        case_id, state.sla_policy[0], state.status not in CLOSED, history, state.team,
        state.priority, state.assignee_id,
    )  # fmt: skip


async def clocks_of(pool: asyncpg.Pool, case_id: UUID) -> list[dict[str, Any]]:
    """The case's clocks as stored, for its view."""
    rows = await pool.fetch(
        "SELECT metric, cycle, policy_id, policy_version, calendar_id, calendar_version, "
        "target_minutes, started_at, due_at, warn_at, fulfilled_at, paused, breached, "
        "elapsed_seconds FROM sla_clocks WHERE case_id = $1 ORDER BY metric", case_id,
    )  # fmt: skip
    return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(r).items()}
            for r in rows]  # fmt: skip


_DUE = """
    SELECT * FROM sla_clocks
    WHERE fulfilled_at IS NULL AND NOT paused
      AND ((warn_at <= $1 AND warned_cycle < cycle AND NOT breached AND due_at > $1)
           OR (due_at <= $1 AND breached_cycle < cycle))
    ORDER BY least(warn_at, due_at) LIMIT $2 FOR UPDATE SKIP LOCKED
"""


async def fire_due_clocks(deps: SupportRuntime, limit: int = 100) -> int:
    """Emit the SLA warnings and breaches due now, exactly once each; how many."""
    now = deps.clock()

    def cause(row: asyncpg.Record) -> str:
        kind = "breach" if row["due_at"] <= now else "warning"
        return f"timer:sla:{row['case_id']}:{row['metric']}:{row['cycle']}:{kind}"

    async def fire(uow: UnitOfWork, row: asyncpg.Record) -> None:
        breach = row["due_at"] <= now
        calendar = deps.sla.calendars.get(row["calendar_id"])
        if not breach and calendar is not None and not is_open(calendar, now):
            # No page out of hours: the warning waits for the calendar's next opening.
            await uow.conn.execute(
                "UPDATE sla_clocks SET warn_at = $3 WHERE case_id = $1 AND metric = $2",
                row["case_id"], row["metric"], next_opening(calendar, now),
            )  # fmt: skip
            return
        await _fire(uow, deps, row, breach, now)

    async def configured(conn: Connection) -> None:
        await share_config(conn)  # before any row lock: a change locks config, then rows
        await current_sla(conn, deps)

    return await fire_due(deps, "sla", _DUE, (now, limit), cause, fire, configured)


async def _fire(uow: UnitOfWork, deps: SupportRuntime, row: asyncpg.Record, breach: bool,
                now: datetime) -> None:  # fmt: skip
    case_id = row["case_id"]
    state, version = await uow.load(cs.decider, cs.stream_id(case_id), personal=False)
    common = dict(
        case_id=case_id, customer_id=state.customer_id, metric=row["metric"],
        cycle=row["cycle"], target_minutes=row["target_minutes"], due_at=row["due_at"],
        policy_id=row["policy_id"], policy_version=row["policy_version"],
        calendar_id=row["calendar_id"], calendar_version=row["calendar_version"],
        team=row["team"], assignee_id=row["assignee_id"], priority=row["priority"],
    )  # fmt: skip
    event: SlaWarning | SlaBreached = (
        SlaBreached(**common, breached_at=now) if breach else SlaWarning(**common, warned_at=now)
    )
    events = cs.decider.decide(cs.RecordSlaEvent(case_id, event), state)
    await uow.append(cs.stream_id(case_id), version, events)
    column = "breached_cycle" if breach else "warned_cycle"
    # A breach also settles the warning of its cycle: none is emitted after it.
    extra = ", warned_cycle = cycle" if breach else ""
    await uow.conn.execute(
        f"UPDATE sla_clocks SET {column} = cycle{extra}, breached = breached OR $3 "
        "WHERE case_id = $1 AND metric = $2", case_id, row["metric"], breach,
    )  # fmt: skip
