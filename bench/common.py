"""Shared benchmark plumbing: endpoints, result files, machine description."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
