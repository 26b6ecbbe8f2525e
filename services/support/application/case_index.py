"""The ``cases`` row of each case, kept in the transaction of every command that changes
it: what agents list and filter by (no personal data: the subject and the conversation
stay sealed in the events)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from services.platform.db import Connection
from services.support.domain.case import Case


async def index_case(conn: Connection, case_id: UUID, state: Case, at: datetime) -> None:
    await conn.execute(
        """
        INSERT INTO cases (case_id, customer_id, kind, channel, category, priority, tier,
                           product_id, order_id, team, assignee_id, status, problem_id,
                           merged_into, opened_at, solved_at, closed_at, reopened, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                CASE WHEN $12::text = 'closed' THEN $17::timestamptz END, $18, $17)
        ON CONFLICT (case_id) DO UPDATE SET
            team = excluded.team, assignee_id = excluded.assignee_id,
            status = excluded.status, priority = excluded.priority,
            problem_id = excluded.problem_id, merged_into = excluded.merged_into,
            solved_at = excluded.solved_at,
            closed_at = coalesce(cases.closed_at, excluded.closed_at),
            reopened = excluded.reopened, updated_at = excluded.updated_at
        """,
        case_id, state.customer_id, state.kind, state.channel, state.category,
        state.priority, state.tier, state.product_id, state.order_id, state.team,
        state.assignee_id, state.status, state.problem_id, state.merged_into,
        state.opened_at, state.solved_at if state.status in ("solved", "closed") else None,
        at, sum(1 for f in state.sla_history if f.kind == "reopened"),
    )  # fmt: skip


async def open_incidents(conn: Connection, problem_id: UUID) -> Sequence[UUID]:
    rows = await conn.fetch(
        "SELECT i.case_id FROM problem_incidents i JOIN cases c USING (case_id) "
        "WHERE i.problem_id = $1 AND c.status NOT IN ('solved', 'closed') ORDER BY i.linked_at",
        problem_id,
    )
    return [r["case_id"] for r in rows]
