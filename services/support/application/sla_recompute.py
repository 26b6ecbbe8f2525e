"""Recomputing the SLA clocks of open cases after the configuration changed (zammad#534).

Runs in the change's transaction, under the exclusive configuration lock
(``sla_config_store.lock_config``): the new version and every open case's clocks under it
commit together or not at all. Cases are read from ``sla_case_histories`` in keyset
batches; each batch is derived in Python (``domain.sla.clocks``, the same function every
command uses) and written with one statement per table (``sla_clock_rows.write_clocks``),
so the cost is a few round trips per thousands of cases, not one per case.

Solved and closed cases are left as they were measured (``sla_clock_rows.CLOSED``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from services.platform.db import Connection
from services.support.application.sla_clock_rows import decode_history, derive, write_clocks
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
    after: object = _FIRST
    done = 0
    while True:
        rows = await conn.fetch(_OPEN, after, batch, wanted)
        if not rows:
            return done
        derived = []
        for row in rows:
            policy = sla.policies.by_id(row["policy_id"])
            derived.append(derive(row["case_id"], policy, sla.calendars[policy.calendar_id],
                                  decode_history(row["history"]), now, row["team"],
                                  row["priority"], row["assignee_id"]))  # fmt: skip
        await write_clocks(conn, derived, now)
        done += len(rows)
        after = rows[-1]["case_id"]
