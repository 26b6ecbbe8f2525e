"""Sales API benchmark: a mixed command workload from 16 concurrent HTTP clients.

The service runs as its own process (as ``make run`` runs it) on a fresh schema; each
client repeats: register a contact, open an opportunity, move its stage, log a call.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import aiohttp

from bench.common import (
    RESULTS,
    ROOT,
    Endpoints,
    free_port,
    fresh_sales_schema,
    percentile,
    wait_ready,
)

SCHEMA = "bench_sales"


async def _client(
    http: aiohttp.ClientSession, base: str, n: int, rounds: int, latencies: list[float]
) -> None:
    async def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        async with http.post(base + path, json=body) as response:
            result: dict[str, Any] = await response.json(content_type=None)
            status = response.status
        latencies.append((time.perf_counter() - started) * 1000)
        if status >= 300:
            raise RuntimeError(f"{path}: {status} {result}")
        return result

    for i in range(rounds):
        tag = f"{n}-{i}-{uuid.uuid4().hex[:6]}"
        person = await call("/contacts", {
            "first_name": "Cliente", "last_name": tag, "emails": [f"c{tag}@example.com.br"],
            "address": {"state": "SP", "country": "BR"},
        })  # fmt: skip
        deal = await call("/opportunities", {
            "customer_id": person["customer_id"], "title": f"Negócio {tag}",
            "amount": {"amount": "1500.00", "currency": "BRL"},
        })  # fmt: skip
        await call(f"/opportunities/{deal['id']}/stage", {"to_stage": "quote_requested"})
        await call("/activities", {
            "customer_id": person["customer_id"], "kind": "call", "subject": "Primeiro contato",
            "duration_minutes": 12, "related": {"opportunity_id": deal["id"]},
        })  # fmt: skip


async def bench_sales_api(ep: Endpoints, clients: int = 16, rounds: int = 150) -> dict[str, Any]:
    await fresh_sales_schema(ep.database_url, SCHEMA)
    port = free_port()
    env = {**os.environ, "CRM_DATABASE_URL": ep.database_url, "CRM_KAFKA_BOOTSTRAP":
           ep.kafka_bootstrap, "CRM_SALES_SCHEMA": SCHEMA, "CRM_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    server = subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
        [sys.executable, "-m", "services.sales", "api", "--port", str(port)], env=env, cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    # aiohttp, not httpx, drives the load: with httpx the client saturated a core before
    # the service did, measuring the client.
    connector = aiohttp.TCPConnector(limit=clients)
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            await wait_ready(http, base + "/readyz")
            warm: list[float] = []
            await asyncio.gather(*(_client(http, base, 1000 + n, 3, warm) for n in range(clients)))
            latencies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(
                *(_client(http, base, n, rounds, latencies) for n in range(clients))
            )
            elapsed = time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    rate = len(latencies) / elapsed
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    append = RESULTS / "append.json"
    append_ratio = json.loads(append.read_text())["ratio"] if append.exists() else None
    return {
        "metric": "sales API commands/s, mixed workload (register, open, stage, log)",
        "unit": "commands/s",
        "value": round(rate, 1),
        "p50_ms": round(p50, 1),
        "p99_ms": round(p99, 1),
        "baseline": "append ratio of the backbone benchmark (store vs bare insert)",
        "baseline_value": append_ratio,
        "ratio": append_ratio,
        "target": ">= 800 commands/s with p99 < 50 ms",
        "target_met": rate >= 800 and p99 < 50,
        "parameters": {"clients": clients, "rounds_per_client": rounds,
                       "commands": len(latencies), "server_processes": 1},
    }  # fmt: skip
