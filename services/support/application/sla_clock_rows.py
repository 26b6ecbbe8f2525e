"""Writing SLA clock rows, for one case (each command) or a batch (a recompute): one
statement per table whatever the batch size, arrays in and ``unnest`` out.

An emitted breach stays a breach: a row whose breach was already emitted for its cycle
keeps ``breached`` true even if a new calendar or target moves its deadline later, and
``warned_cycle`` / ``breached_cycle`` are never touched here, so nothing fires twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import orjson

from services.platform.db import Connection
from services.support.domain.business_hours import BusinessCalendar
from services.support.domain.case import SlaFact
from services.support.domain.sla import Clock, ClockEvent, SlaPolicy, clocks

CLOSED = ("solved", "closed")
"""A case in these statuses is not recomputed: its clocks were settled under the version
it ran under; a reopening brings it under the version in force at that command."""


@dataclass(frozen=True)
class CaseClocks:
    case_id: UUID
    policy: SlaPolicy
    calendar: BusinessCalendar
    found: tuple[Clock, ...]
    team: str
    priority: str
    assignee_id: str | None


def encode_history(facts: Sequence[SlaFact]) -> str:
    """[[epoch seconds, kind, status or null], ...]: only a plain status change names its
    status, the other kinds imply theirs."""
    return orjson.dumps([[int(f.at.timestamp()), f.kind, f.status if f.kind == "status" else None]
                         for f in facts]).decode()  # fmt: skip


def decode_history(raw: str | bytes) -> list[ClockEvent]:
    return [ClockEvent(datetime.fromtimestamp(at, UTC), kind, status)
            for at, kind, status in orjson.loads(raw)]  # fmt: skip


def derive(case_id: UUID, policy: SlaPolicy, calendar: BusinessCalendar,
           history: Sequence[ClockEvent], now: datetime, team: str, priority: str,
           assignee_id: str | None) -> CaseClocks:  # fmt: skip
    return CaseClocks(case_id, policy, calendar, clocks(policy, calendar, history, now), team,
                      priority, assignee_id)  # fmt: skip


_UPSERT = """
INSERT INTO sla_clocks (case_id, metric, cycle, policy_id, policy_version, calendar_id,
    calendar_version, target_minutes, started_at, due_at, warn_at, fulfilled_at, paused,
    breached, elapsed_seconds, team, priority, assignee_id, updated_at)
SELECT k.*, $19::timestamptz FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[],
    $5::int[], $6::text[], $7::int[], $8::int[], $9::timestamptz[], $10::timestamptz[],
    $11::timestamptz[], $12::timestamptz[], $13::bool[], $14::bool[], $15::int[],
    $16::text[], $17::text[], $18::text[]) AS k
ON CONFLICT (case_id, metric) DO UPDATE SET
    cycle = excluded.cycle, policy_id = excluded.policy_id,
    policy_version = excluded.policy_version, calendar_id = excluded.calendar_id,
    calendar_version = excluded.calendar_version, target_minutes = excluded.target_minutes,
    started_at = excluded.started_at, due_at = excluded.due_at, warn_at = excluded.warn_at,
    fulfilled_at = excluded.fulfilled_at, paused = excluded.paused,
    breached = excluded.breached OR sla_clocks.breached_cycle >= excluded.cycle,
    elapsed_seconds = excluded.elapsed_seconds, team = excluded.team,
    priority = excluded.priority, assignee_id = excluded.assignee_id,
    updated_at = excluded.updated_at
"""
_DROP_GONE = """
DELETE FROM sla_clocks s WHERE s.case_id = ANY($1::uuid[]) AND NOT EXISTS (
    SELECT 1 FROM unnest($2::uuid[], $3::text[]) AS k(case_id, metric)
    WHERE k.case_id = s.case_id AND k.metric = s.metric)
"""


def _rows(batch: Sequence[CaseClocks]) -> Iterator[tuple[object, ...]]:
    for case in batch:
        p, cal = case.policy, case.calendar
        for c in case.found:
            yield (case.case_id, c.metric, c.cycle, p.policy_id, p.version, cal.calendar_id,
                   cal.version, c.target_minutes, c.started_at, c.due_at, c.warn_at,
                   c.fulfilled_at, c.paused, c.breached, c.elapsed_seconds, case.team,
                   case.priority, case.assignee_id)  # fmt: skip


async def write_clocks(conn: Connection, batch: Sequence[CaseClocks], now: datetime) -> None:
    """Store the clocks of each case of ``batch``; a metric a case no longer has (its
    policy lost the target, or a cycle that has not started) loses its row."""
    columns: list[list[object]] = [[] for _ in range(18)]
    for row in _rows(batch):
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    await conn.execute(_DROP_GONE, [c.case_id for c in batch], columns[0], columns[1])
    await conn.execute(_UPSERT, *columns, now)


# A recompute writes every open case's rows: per batch, statements joined to arrays
# make PostgreSQL hash the whole table each time, so the batches are copied (COPY) into
# staging tables of the transaction instead and applied at the end with one join each.
_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS sla_staged_cases (case_id uuid NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS sla_staged_clocks (
    case_id uuid NOT NULL, metric text NOT NULL, cycle integer NOT NULL,
    policy_id text NOT NULL, policy_version integer NOT NULL, calendar_id text NOT NULL,
    calendar_version integer NOT NULL, target_minutes integer NOT NULL,
    started_at timestamptz NOT NULL, due_at timestamptz, warn_at timestamptz,
    fulfilled_at timestamptz, paused boolean NOT NULL, breached boolean NOT NULL,
    elapsed_seconds integer NOT NULL, team text NOT NULL, priority text NOT NULL,
    assignee_id text) ON COMMIT DROP;
"""
_APPLY = [
    "ANALYZE sla_staged_cases",
    "ANALYZE sla_staged_clocks",
    """DELETE FROM sla_clocks s USING sla_staged_cases c WHERE s.case_id = c.case_id
       AND NOT EXISTS (SELECT 1 FROM sla_staged_clocks k
                       WHERE k.case_id = s.case_id AND k.metric = s.metric)""",
    """UPDATE sla_clocks s SET
        cycle = k.cycle, policy_id = k.policy_id, policy_version = k.policy_version,
        calendar_id = k.calendar_id, calendar_version = k.calendar_version,
        target_minutes = k.target_minutes, started_at = k.started_at, due_at = k.due_at,
        warn_at = k.warn_at, fulfilled_at = k.fulfilled_at, paused = k.paused,
        breached = k.breached OR s.breached_cycle >= k.cycle,
        elapsed_seconds = k.elapsed_seconds, team = k.team, priority = k.priority,
        assignee_id = k.assignee_id, updated_at = $1::timestamptz
       FROM sla_staged_clocks k WHERE s.case_id = k.case_id AND s.metric = k.metric""",
    """INSERT INTO sla_clocks (case_id, metric, cycle, policy_id, policy_version,
        calendar_id, calendar_version, target_minutes, started_at, due_at, warn_at,
        fulfilled_at, paused, breached, elapsed_seconds, team, priority, assignee_id,
        updated_at)
       SELECT k.*, $1::timestamptz FROM sla_staged_clocks k WHERE NOT EXISTS (
           SELECT 1 FROM sla_clocks s WHERE s.case_id = k.case_id AND s.metric = k.metric)""",
]


async def stage_clocks(conn: Connection, batch: Sequence[CaseClocks]) -> None:
    """Copy the clocks of ``batch`` into the transaction's staging tables; nothing is in
    ``sla_clocks`` until ``apply_staged``."""
    await conn.execute(_STAGE)
    await conn.copy_records_to_table("sla_staged_cases", records=[(c.case_id,) for c in batch])
    await conn.copy_records_to_table("sla_staged_clocks", records=_rows(batch))


async def apply_staged(conn: Connection, now: datetime) -> None:
    """Write every staged case's clocks as ``write_clocks`` would (an emitted breach stays
    a breach, a metric a case no longer has loses its row), one statement each."""
    await conn.execute(_STAGE)
    for statement in _APPLY:
        await (conn.execute(statement, now) if "$1" in statement else conn.execute(statement))
    await conn.execute("TRUNCATE sla_staged_cases, sla_staged_clocks")
