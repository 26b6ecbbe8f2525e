"""Support benchmark: recurring-failure detection latency, next to a plain case's.

Detection runs in the transaction that opens the case crossing the threshold, so the
``RecurringFailureDetected`` event is in the store at that case's commit (latency zero
by construction; checked on every group: the open's answer names the group). What is
measured is the rest of the way: from that commit to the detection event being read
from Kafka, published by the outbox relay running as its own process (as ``make run``
runs it). The baseline, in the same run and interleaved with it, is the same path for a
plain case: its commit to its ``CaseOpened`` read from Kafka. Each group is four similar
cases of one product, then the fifth, measured; each baseline case has a product of its
own. Also reported: the open command's own duration, crossing vs plain (the cost of
judging similarity inside the transaction).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from bench.common import ROOT, Endpoints, percentile
from bench.support import CUSTOMERS, fresh_support_schema
from contracts.topics import TopicSpec
from services.platform.db import create_pool
from services.platform.kafka import ensure_topics
from services.support.application.cases import NewCase
from services.support.application.runner import run_command
from services.support.bootstrap import bootstrap

SCHEMA = "bench_support_detection"
DETECTED = "crm.support.recurring_failure_detected"
OPENED = "crm.support.case_opened"
COMPLAINT = "a porta da geladeira {sku} nao fecha direito e a borracha de vedacao esta solta"
FILLERS = ["", " urgente", " por favor", " ja liguei duas vezes", " de novo"]


def _case(n: int, sku: str, description: str) -> NewCase:
    return NewCase(uuid.uuid4(), f"bench-cust-{n % CUSTOMERS}", "complaint", "web",
                   "Produto com defeito", description, "defect", "normal", sku)  # fmt: skip


async def bench_support_detection(ep: Endpoints, groups: int = 200) -> dict[str, Any]:
    await fresh_support_schema(ep.database_url, SCHEMA)
    topic = f"bench.{uuid.uuid4().hex[:8]}.support-detection"
    await ensure_topics(ep.kafka_bootstrap, [TopicSpec(topic, 6, "bench")])
    pool = await create_pool(ep.database_url, SCHEMA, min_size=2, max_size=8)
    deps = bootstrap(pool)
    env = {**os.environ, "CRM_DATABASE_URL": ep.database_url,
           "CRM_KAFKA_BOOTSTRAP": ep.kafka_bootstrap, "CRM_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    relay = subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
        [sys.executable, "-m", "services.platform.relay_main", "--schema", SCHEMA,
         "--topic", topic], env=env, cwd=ROOT,
    )  # fmt: skip
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=ep.kafka_bootstrap,
                                group_id=f"bench-{topic}", auto_offset_reset="earliest",
                                enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    arrived: dict[str, float] = {}  # stream id of the awaited event -> when read

    async def consume() -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=50)
            now = time.time()
            for records in batch.values():
                for record in records:
                    event = orjson.loads(record.value)
                    if event.get("type") in (DETECTED, OPENED):
                        arrived.setdefault(f"{event['type']}|{event.get('streamid')}", now)

    reader = asyncio.create_task(consume())
    committed: dict[str, tuple[str, float]] = {}  # awaited key -> (kind, commit time)
    command_ms: dict[str, list[float]] = {"crossing": [], "plain": []}
    try:
        await asyncio.sleep(3)  # the relay and the consumer are up
        n = 0
        for g in range(groups):
            sku = f"SKU-G{g}"
            texts = [COMPLAINT.format(sku=g) + filler for filler in FILLERS]
            for text in texts[:4]:
                await run_command(deps, _case(n := n + 1, sku, text))
            crossing = _case(n := n + 1, sku, texts[4])
            started = time.perf_counter()
            answer, _ = await run_command(deps, crossing)
            done = time.time()
            command_ms["crossing"].append((time.perf_counter() - started) * 1000)
            group_id = answer.get("recurring_group_id")
            if not group_id:
                raise AssertionError(f"group {g} was not detected at its fifth case")
            committed[f"{DETECTED}|recurring-failure-{group_id}"] = ("detection", done)
            plain = _case(n := n + 1, f"SKU-P{g}", f"pedido {g} chegou com a caixa rasgada")
            started = time.perf_counter()
            await run_command(deps, plain)
            done = time.time()
            command_ms["plain"].append((time.perf_counter() - started) * 1000)
            committed[f"{OPENED}|case-{plain.case_id}"] = ("baseline", done)
        deadline = time.monotonic() + 60
        while not set(committed) <= set(arrived):
            if time.monotonic() > deadline:
                raise TimeoutError("the relay did not publish every awaited event")
            await asyncio.sleep(0.1)
    finally:
        reader.cancel()
        await consumer.stop()
        relay.send_signal(signal.SIGTERM)
        relay.wait(timeout=30)
        await pool.close()
    latency: dict[str, list[float]] = {"detection": [], "baseline": []}
    for key, (kind, at) in committed.items():
        latency[kind].append((arrived[key] - at) * 1000)
    p99, b99 = percentile(latency["detection"], 99), percentile(latency["baseline"], 99)
    return {
        "metric": "recurring-failure detection latency p99, commit of the crossing case to "
        "RecurringFailureDetected read from Kafka (in the store at that commit)",
        "unit": "ms",
        "value": round(p99, 1),
        "p50_ms": round(percentile(latency["detection"], 50), 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(max(latency["detection"]), 1),
        "store_latency_ms": 0,
        "baseline": "plain case commit -> its CaseOpened read from Kafka, same run, interleaved",
        "baseline_value": round(b99, 1),
        "baseline_p50_ms": round(percentile(latency["baseline"], 50), 1),
        "ratio": round(p99 / b99, 2) if b99 else None,
        "open_command_ms": {
            kind: {"p50": round(percentile(v, 50), 1), "p99": round(percentile(v, 99), 1)}
            for kind, v in command_ms.items()
        },
        "target": "p99 < 2000 ms",
        "target_met": p99 < 2000,
        "parameters": {
            "groups": groups,
            "cases": groups * 6,
            "group_size": 5,
            "window_days": 7,
            "clock": "time.time() after commit / on read",
        },
    }
