"""Faults benchmark: 16 clients send commands through the gateway (bench/workload.py)
on a system of its own (bench/fault_system.py), first undisturbed (the baseline), then
with PostgreSQL stopped in immediate mode and started again a third of the way in.

Reported: acknowledged commands a second and their p99 (first send to final answer,
retries included) in both phases, and the count of every status code answered. Target:
no answer is a 500 (a fault is a 503 with Retry-After, and the client's retry with its
Idempotency-Key gets the command through once).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Endpoints, percentile
from bench.fault_system import FaultSystem, start_fault_system, stop_fault_system
from bench.workload import Tally, run_clients

CLIENTS = 16
PHASE_SECONDS = 30.0


async def _phase(system: FaultSystem, restart_postgres: bool) -> tuple[Tally, float, float]:
    """One phase's tally, its length in seconds, and how long PostgreSQL was down."""
    tally, stop = Tally(), asyncio.Event()
    started = time.monotonic()
    clients = asyncio.create_task(run_clients(system.gateway, system.tokens(CLIENTS), stop, tally))
    down_for = 0.0
    if restart_postgres:
        await asyncio.sleep(PHASE_SECONDS / 3)
        went_down = time.monotonic()
        await asyncio.to_thread(system.stop_postgres_immediately)
        await asyncio.to_thread(system.start_postgres)
        down_for = time.monotonic() - went_down
        await asyncio.sleep(max(0.0, PHASE_SECONDS - (time.monotonic() - started)))
    else:
        await asyncio.sleep(PHASE_SECONDS)
    stop.set()
    await clients
    return tally, time.monotonic() - started, down_for


def _summary(tally: Tally, seconds: float) -> dict[str, Any]:
    return {
        "commands_per_second": round(len(tally.acknowledged) / seconds, 1),
        "answers_per_second": round(sum(tally.all_statuses.values()) / seconds, 1),
        "p50_ms": round(percentile(tally.latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(tally.latencies, 99) * 1000, 1),
        "statuses": {str(k): v for k, v in sorted(tally.all_statuses.items())},
        "connection_errors": tally.connection_errors,
        "unavailable_without_retry_after": tally.unavailable_without_retry_after,
        "refused": len(tally.refused),
        "abandoned": tally.abandoned,
    }


async def bench_faults(_: Endpoints) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="crm-bench-faults-") as directory:
        system = await asyncio.to_thread(start_fault_system, Path(directory))
        try:
            baseline, baseline_seconds, _ = await _phase(system, restart_postgres=False)
            faulted, faulted_seconds, down_for = await _phase(system, restart_postgres=True)
        finally:
            await asyncio.to_thread(stop_fault_system, system)
    calm, restart = _summary(baseline, baseline_seconds), _summary(faulted, faulted_seconds)
    five_hundreds = faulted.all_statuses[500] + baseline.all_statuses[500]
    return {
        "value": restart["commands_per_second"],
        "unit": "commands/s",
        "baseline_value": calm["commands_per_second"],
        "ratio": round(restart["commands_per_second"] / calm["commands_per_second"], 3),
        "target": "0 answers with status 500 across a PostgreSQL restart",
        "target_met": five_hundreds == 0,
        "clients": CLIENTS,
        "phase_seconds": PHASE_SECONDS,
        "postgres_down_seconds": round(down_for, 2),
        "with_restart": restart,
        "without_restart": calm,
        "first_500_bodies": faulted.five_hundreds[:3],
    }
