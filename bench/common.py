"""Shared benchmark plumbing: endpoints, result files, machine description."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import socket
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

RESULTS = Path(__file__).with_name("results")
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    database_url: str


def endpoints() -> Endpoints:
    from services.platform.settings import Settings

    settings = Settings()
    return Endpoints(settings.kafka_bootstrap, settings.database_url)


def kafka_version() -> str:
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    match = re.search(r"<artifactId>kafka_2\.13</artifactId>\s*<version>([^<]+)</version>", pom)
    return match.group(1) if match else "unknown"


async def machine(database_url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(database_url)
    try:
        pg = await conn.fetchval("SHOW server_version")
        fsync = await conn.fetchval("SHOW fsync")
        sync_commit = await conn.fetchval("SHOW synchronous_commit")
    finally:
        await conn.close()
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kafka_version": kafka_version(),
        "postgres_version": pg,
        "postgres_fsync": fsync,
        "postgres_synchronous_commit": sync_commit,
        "platform": platform.platform(),
    }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    result = {"benchmark": name, "measured_at": datetime.now(UTC).isoformat(), **result}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(http: aiohttp.ClientSession, url: str) -> None:
    """Until ``url`` answers 200 (a process the benchmark started); 30 s at most."""
    for _ in range(300):
        try:
            async with http.get(url) as ready:
                if ready.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready")


async def fresh_sales_schema(database_url: str, schema: str) -> None:
    """A sales store of the benchmark's own, migrated as ``crm migrate`` would (the
    service refuses a schema older than it needs)."""
    from services.platform.migrate import migrate_schema
    from services.sales.migrations import SALES_SETS

    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await migrate_schema(admin, schema, SALES_SETS)
    finally:
        await admin.close()
