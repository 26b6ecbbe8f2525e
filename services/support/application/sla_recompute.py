"""Recomputing the SLA clocks of open cases after the configuration changed (zammad#534).

Runs in the change's transaction, under the exclusive configuration lock
(``sla_config_store.lock_config``): the new version and every open case's clocks under it
commit together or not at all. Cases are read from ``sla_case_histories`` in keyset
batches; each batch is derived in Python (``domain.sla.clocks``, the same function every
command uses) and copied (COPY) into staging tables of the transaction; at the end one
DELETE, one UPDATE and one INSERT apply them all (``sla_clock_rows.apply_staged``). An
UPDATE joined to each batch's arrays made PostgreSQL hash the whole clock table once per
batch; the single final UPDATE costs about what a bare UPDATE of the same rows does
(bench/support_sla.py), and the rest of a recompute is the derivation in Python.

Solved and closed cases are left as they were measured (``sla_clock_rows.CLOSED``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from asyncpg import Record

from services.platform.db import Connection
from services.support.application.sla_clock_rows import (
    CaseClocks,
    apply_staged,
    decode_history,
    derive,
    stage_clocks,
)
from services.support.application.sla_settings import SlaSettings

BATCH = 5000

_OPEN = """
SELECT case_id, policy_id, history, team, priority, assignee_id FROM sla_case_histories
WHERE is_open AND case_id > $1 AND ($3::text[] IS NULL OR policy_id = ANY($3))
ORDER BY case_id LIMIT $2
"""
_FIRST = "00000000-0000-0000-0000-000000000000"


async def recompute_open_cases(conn: Connection, sla: SlaSettings,
                               policies: Collection[str] | None, now: datetime,
                               batch: int = BATCH) -> int:  # fmt: skip
    """Derive and store again the clocks of every open case measured by one of
    ``policies`` (None: every open case) under ``sla``; how many cases."""
    wanted = None if policies is None else sorted(policies)
    rows = await conn.fetch(_OPEN, _FIRST, batch, wanted)
    done = 0
    while rows:
        await stage_clocks(conn, _derive(sla, rows, now))
        done += len(rows)
        rows = await conn.fetch(_OPEN, rows[-1]["case_id"], batch, wanted)
    await apply_staged(conn, now)
    return done


def _derive(sla: SlaSettings, rows: Sequence[Record], now: datetime) -> list[CaseClocks]:
    derived = []
    for row in rows:
        policy = sla.policies.by_id(row["policy_id"])
        derived.append(derive(row["case_id"], policy, sla.calendars[policy.calendar_id],
                              decode_history(row["history"]), now, row["team"],
                              row["priority"], row["assignee_id"]))  # fmt: skip
    return derived
