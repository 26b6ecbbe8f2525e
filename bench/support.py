"""Support benchmark: case commands through the gateway, next to the sales workload.

The support and sales services and the gateway run as their own processes (as ``make
run`` runs them). 16 clients each repeat a round of case commands as an agent would:
open a case, reply to the customer, set it pending, the customer answers (it reopens),
solve it — five commands. In the same run, alternating phases, the same 16 clients run
the gateway benchmark's sales round (four commands and two reads) with a seller's token:
the sales workload is the baseline the support figures are read against.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import aiohttp
import asyncpg

from bench.common import ROOT, Endpoints, free_port, fresh_sales_schema, percentile, wait_ready
from bench.cpu import CpuMeter, ms_per_request, postmaster_of, spent_between
from bench.gateway import _phase
from bench.gateway import _round as sales_round
from services.gateway.auth import KeyRing

SALES_SCHEMA = "bench_support_sales"
SUPPORT_SCHEMA = "bench_support"
SIGNING_KEY = "bench-signing-key-0123456789abcdef0123456789"
CUSTOMERS = 200


async def fresh_support_schema(database_url: str, schema: str) -> None:
    """A support store of the benchmark's own, migrated, with known customers."""
    from services.platform.migrate import migrate_schema
    from services.support.migrations import SUPPORT_SETS

    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await migrate_schema(admin, schema, SUPPORT_SETS)
        await admin.executemany(
            f'INSERT INTO "{schema}".known_customers (customer_id, known_at) VALUES ($1, now())',
            [(f"bench-cust-{n}",) for n in range(CUSTOMERS)],
        )
    finally:
        await admin.close()


async def _postmaster(ep: Endpoints) -> int | None:
    """The PostgreSQL server's pid, when it runs on this machine (its CPU is counted)."""
    conn = await asyncpg.connect(ep.database_url)
    try:
        return postmaster_of(int(await conn.fetchval("SELECT pg_backend_pid()")))
    finally:
        await conn.close()


async def case_round(call: Callable[[str, str, dict[str, Any] | None], Any], tag: str) -> None:
    customer = f"bench-cust-{hash(tag) % CUSTOMERS}"
    case = await call("POST", "/support/cases", {
        "customer_id": customer, "kind": "complaint", "channel": "chat",
        "subject": f"Pedido {tag} chegou com defeito", "category": "delivery",
        "description": "A tampa veio quebrada.",
    })  # fmt: skip
    path = f"/support/cases/{case['case_id']}"
    await call("POST", f"{path}/messages", {"kind": "agent_reply", "body": "Pode enviar foto?"})
    await call("POST", f"{path}/status", {"status": "pending"})
    await call("POST", f"{path}/messages", {"kind": "customer_reply", "body": "Segue a foto."})
    await call("POST", f"{path}/solution", {"resolution": "Troca enviada."})


async def bench_support_cases(ep: Endpoints, clients: int = 16, rounds: int = 40
                              ) -> dict[str, Any]:  # fmt: skip
    await fresh_sales_schema(ep.database_url, SALES_SCHEMA)
    await fresh_support_schema(ep.database_url, SUPPORT_SCHEMA)
    sales_port, support_port, gateway_port = free_port(), free_port(), free_port()
    env = {**os.environ, "CRM_DATABASE_URL": ep.database_url, "CRM_KAFKA_BOOTSTRAP":
           ep.kafka_bootstrap, "CRM_SALES_SCHEMA": SALES_SCHEMA,
           "CRM_SUPPORT_SCHEMA": SUPPORT_SCHEMA, "CRM_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT), "CRM_GATEWAY_JWT_KEYS": json.dumps({"bench": SIGNING_KEY}),
           "CRM_GATEWAY_SALES_URL": f"http://127.0.0.1:{sales_port}",
           "CRM_GATEWAY_SUPPORT_URL": f"http://127.0.0.1:{support_port}",
           "CRM_GATEWAY_PORT": str(gateway_port), "CRM_GATEWAY_RATE_PER_SECOND": "100000",
           "CRM_GATEWAY_RATE_BURST": "100000"}  # fmt: skip
    servers = [
        subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
            [sys.executable, "-m", "services.sales", "api", "--port", str(sales_port)],
            env=env, cwd=ROOT,
        ),
        subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "services.support", "api", "--port", str(support_port)],
            env=env, cwd=ROOT,
        ),
        subprocess.Popen([sys.executable, "-m", "services.gateway"], env=env, cwd=ROOT),  # noqa: ASYNC220
    ]  # fmt: skip
    gateway = f"http://127.0.0.1:{gateway_port}/v1"
    ring = KeyRing({"bench": SIGNING_KEY}, "bench")
    agent = {"Authorization": "Bearer " + ring.issue("agent-ana", "service_agent",
                                                     ttl_seconds=3600)}  # fmt: skip
    seller = {"Authorization": "Bearer " + ring.issue("seller-sp-01", "seller", team="sudeste",
                                                      ttl_seconds=3600)}  # fmt: skip
    workloads = {"support": (agent, case_round), "sales": (seller, sales_round)}
    totals = {name: [0, 0.0] for name in workloads}
    cpu: dict[str, dict[str, float]] = {name: {} for name in workloads}
    latencies: dict[str, list[float]] = {name: [] for name in workloads}
    connector = aiohttp.TCPConnector(limit=clients * 2)
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            await wait_ready(http, f"http://127.0.0.1:{support_port}/readyz")
            await wait_ready(http, f"http://127.0.0.1:{sales_port}/readyz")
            await wait_ready(http, f"http://127.0.0.1:{gateway_port}/healthz")
            meter = CpuMeter({"sales-api": servers[0].pid, "support-api": servers[1].pid,
                              "gateway": servers[2].pid}, await _postmaster(ep))  # fmt: skip
            for headers, one_round in workloads.values():  # warm-up
                await _phase(http, gateway, headers, clients, 2, one_round)
            for _ in range(2):  # alternating, so drift on a noisy machine hits both
                for name, (headers, one_round) in workloads.items():
                    before = meter.snapshot()
                    count, seconds, lat = await _phase(http, gateway, headers, clients,
                                                       rounds // 2, one_round)  # fmt: skip
                    for process, spent in spent_between(before, meter.snapshot()).items():
                        cpu[name][process] = cpu[name].get(process, 0.0) + spent
                    totals[name][0] += count
                    totals[name][1] += seconds
                    latencies[name] += lat
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)
    rate = {name: count / seconds for name, (count, seconds) in totals.items()}
    p99 = percentile(latencies["support"], 99)
    return {
        "metric": "support case commands/s through the gateway, 16 clients, mixed (open, "
        "agent reply, pending, customer reply, solve), agent token",
        "unit": "commands/s",
        "value": round(rate["support"], 1),
        "p50_ms": round(percentile(latencies["support"], 50), 1),
        "p99_ms": round(p99, 1),
        "baseline": "the gateway benchmark's sales round (4 commands + 2 reads) through the "
        "same gateway, same clients, alternating phases of the same run",
        "baseline_value": round(rate["sales"], 1),
        "baseline_p50_ms": round(percentile(latencies["sales"], 50), 1),
        "baseline_p99_ms": round(percentile(latencies["sales"], 99), 1),
        "ratio": round(rate["support"] / rate["sales"], 3),
        "target": ">= 800 commands/s and p99 < 50 ms",
        "target_met": rate["support"] >= 800 and p99 < 50,
        "cpu_ms_per_request": {name: ms_per_request(cpu[name], int(totals[name][0]))
                               for name in workloads},
        "parameters": {"clients": clients, "rounds_per_client": rounds,
                       "commands": totals["support"][0]},
    }  # fmt: skip
