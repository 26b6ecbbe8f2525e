"""Gateway benchmark: the same mixed workload through the gateway and straight to the service.

The sales service and the gateway run as their own processes (as ``make run`` runs
them). 32 clients each repeat a round of four commands (register a contact, open a deal,
move its stage, log a call) and two reads (the deal, the contact). Through the gateway
each request carries a seller's bearer token, so it pays for authentication, the role
matrix, the team rule (a deal's owner is looked up before a seller may touch it), body
validation and the extra hop. The phases alternate (direct, gateway, direct, gateway) so
that drift on a noisy machine hits both.
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
from collections.abc import Callable
from typing import Any

import aiohttp

from bench.common import ROOT, Endpoints, free_port, fresh_sales_schema, percentile, wait_ready
from services.gateway.auth import KeyRing

SCHEMA = "bench_gateway"
SIGNING_KEY = "bench-signing-key-0123456789abcdef0123456789"


async def _round(call: Callable[[str, str, dict[str, Any] | None], Any], tag: str) -> None:
    person = await call("POST", "/contacts", {
        "first_name": "Cliente", "last_name": tag, "emails": [f"g{tag}@example.com.br"],
        "address": {"state": "SP", "country": "BR"},
    })  # fmt: skip
    deal = await call("POST", "/opportunities", {
        "customer_id": person["customer_id"], "title": f"Negócio {tag}",
        "amount": {"amount": "1500.00", "currency": "BRL"}, "owner_id": "seller-sp-01",
    })  # fmt: skip
    await call("POST", f"/opportunities/{deal['id']}/stage", {"to_stage": "quote_requested"})
    await call("POST", "/activities", {
        "customer_id": person["customer_id"], "kind": "call", "subject": "Primeiro contato",
        "duration_minutes": 12, "related": {"opportunity_id": deal["id"]},
    })  # fmt: skip
    await call("GET", f"/opportunities/{deal['id']}", None)
    await call("GET", f"/contacts/{person['id']}", None)


async def _phase(
    http: aiohttp.ClientSession,
    base: str,
    headers: dict[str, str],
    clients: int,
    rounds: int,
    one_round: Callable[[Any, str], Any] = _round,
) -> tuple[int, float, list[float]]:
    """(requests, seconds, latencies in ms) of ``clients`` each running ``rounds`` rounds."""
    latencies: list[float] = []

    async def call(method: str, path: str, body: dict[str, Any] | None) -> Any:
        started = time.perf_counter()
        async with http.request(method, base + path, json=body, headers=headers) as answer:
            result = await answer.json(content_type=None)
            status = answer.status
        latencies.append((time.perf_counter() - started) * 1000)
        if status >= 300:
            raise RuntimeError(f"{method} {base}{path}: {status} {result}")
        return result

    async def client(n: int) -> None:
        for i in range(rounds):
            await one_round(call, f"{n}-{i}-{uuid.uuid4().hex[:8]}")

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return len(latencies), time.perf_counter() - started, latencies


async def bench_gateway(ep: Endpoints, clients: int = 32, rounds: int = 40) -> dict[str, Any]:
    await fresh_sales_schema(ep.database_url, SCHEMA)
    sales_port, gateway_port = free_port(), free_port()
    env = {**os.environ, "CRM_DATABASE_URL": ep.database_url, "CRM_KAFKA_BOOTSTRAP":
           ep.kafka_bootstrap, "CRM_SALES_SCHEMA": SCHEMA, "CRM_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT), "CRM_GATEWAY_JWT_KEYS": json.dumps({"bench": SIGNING_KEY}),
           "CRM_GATEWAY_SALES_URL": f"http://127.0.0.1:{sales_port}",
           "CRM_GATEWAY_PORT": str(gateway_port), "CRM_GATEWAY_RATE_PER_SECOND": "100000",
           "CRM_GATEWAY_RATE_BURST": "100000"}  # fmt: skip
    servers = [
        subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
            [sys.executable, "-m", "services.sales", "api", "--port", str(sales_port)],
            env=env, cwd=ROOT,
        ),
        subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "services.gateway"], env=env, cwd=ROOT
        ),
    ]  # fmt: skip
    direct = f"http://127.0.0.1:{sales_port}"
    gateway = f"http://127.0.0.1:{gateway_port}/v1"
    token = KeyRing({"bench": SIGNING_KEY}, "bench").issue(
        "seller-sp-01", "seller", team="sudeste", ttl_seconds=3600
    )
    authorized = {"Authorization": f"Bearer {token}"}
    totals = {"direct": [0, 0.0], "gateway": [0, 0.0]}
    latencies: dict[str, list[float]] = {"direct": [], "gateway": []}
    connector = aiohttp.TCPConnector(limit=clients * 2)
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            await wait_ready(http, f"{direct}/readyz")
            # liveness: this workload reads no projection, whose views may not exist yet
            await wait_ready(http, f"http://127.0.0.1:{gateway_port}/healthz")
            await _phase(http, direct, {}, clients, 2)  # warm-up, both paths
            await _phase(http, gateway, authorized, clients, 2)
            for _ in range(2):
                for name, base, headers in (
                    ("direct", direct, {}),
                    ("gateway", gateway, authorized),
                ):
                    count, seconds, lat = await _phase(http, base, headers, clients, rounds // 2)
                    totals[name][0] += count
                    totals[name][1] += seconds
                    latencies[name] += lat
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)
    rate = {name: count / seconds for name, (count, seconds) in totals.items()}
    ratio = rate["gateway"] / rate["direct"]
    return {
        "metric": "gateway requests/s, mixed workload (4 commands + 2 reads per round), "
        "32 clients, seller token",
        "unit": "requests/s",
        "value": round(rate["gateway"], 1),
        "p50_ms": round(percentile(latencies["gateway"], 50), 1),
        "p99_ms": round(percentile(latencies["gateway"], 99), 1),
        "baseline": "the same requests straight to the sales service, same run",
        "baseline_value": round(rate["direct"], 1),
        "baseline_p50_ms": round(percentile(latencies["direct"], 50), 1),
        "baseline_p99_ms": round(percentile(latencies["direct"], 99), 1),
        "ratio": round(ratio, 3),
        "target": ">= 0.7 of direct",
        "target_met": ratio >= 0.7,
        "parameters": {"clients": clients, "rounds_per_client": rounds,
                       "requests_per_path": totals["gateway"][0],
                       "phases": "direct, gateway, direct, gateway"},
    }  # fmt: skip
