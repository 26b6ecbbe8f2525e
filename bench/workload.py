"""A command workload through the gateway that keeps going through faults.

Each client (its own caller, with its own token) captures leads: one command, one event,
one timeline entry each, with its own ``Idempotency-Key``; every third command also
reads (a timeline, a search). A command answered 5xx or 429, or whose connection broke,
is sent again with the same key, as a careful client would (after ``Retry-After`` when
given): so every command ends acknowledged exactly once. Every answer's status is
counted, retries included. Shared by the fault test
(``tests/e2e/test_faults_through_gateway.py``) and ``bench/faults.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

COMMAND_BUDGET = 90.0
"""Seconds a command is retried for before the client gives up on it (never expected)."""


@dataclass
class Acknowledged:
    key: str
    name: str
    customer_id: str
    event_ids: list[str]


@dataclass
class Tally:
    commands: Counter[int] = field(default_factory=Counter)
    """Status of every command answer, retries included."""
    reads: Counter[int] = field(default_factory=Counter)
    connection_errors: int = 0
    connection_error_kinds: list[str] = field(default_factory=list)
    unavailable_without_retry_after: int = 0
    acknowledged: list[Acknowledged] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    """4xx answers to a command (none expected: the workload is valid)."""
    abandoned: int = 0
    latencies: list[float] = field(default_factory=list)
    """Seconds from a command's first send to its final answer, retries included."""
    five_hundreds: list[str] = field(default_factory=list)
    """Bodies of the first 500 answers, to say what broke."""

    @property
    def all_statuses(self) -> Counter[int]:
        return self.commands + self.reads


async def run_clients(
    gateway: str,
    tokens: Sequence[str],
    stop: asyncio.Event,
    tally: Tally | None = None,
) -> Tally:
    """One client per token (each its own caller, as the gateway's rate limits count),
    until ``stop`` is set; every command started is finished. Pass ``tally`` to watch the
    counts while it runs."""
    tally = tally if tally is not None else Tally()
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(base_url=gateway, timeout=timeout) as http:
        await asyncio.gather(
            *(_client(http, n, token, stop, tally) for n, token in enumerate(tokens))
        )
    return tally


async def _client(
    http: aiohttp.ClientSession, number: int, token: str, stop: asyncio.Event, tally: Tally
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    sent = 0
    while not stop.is_set():
        sent += 1
        name = f"Cliente Falha {number}-{sent}-{uuid.uuid4().hex[:6]}"
        acked = await _command(http, headers, name, tally)
        if acked is not None:
            tally.acknowledged.append(acked)
        if sent % 3 == 0 and tally.acknowledged:
            await _read(http, headers, tally.acknowledged[-1], tally)


async def _command(
    http: aiohttp.ClientSession, headers: dict[str, str], name: str, tally: Tally
) -> Acknowledged | None:
    key = f"fault-{uuid.uuid4()}"
    body = {"source": "web_form", "name": name, "address": {"state": "SP", "country": "BR"}}
    started = time.monotonic()
    while time.monotonic() - started < COMMAND_BUDGET:
        wait = 0.2
        try:
            async with http.post(
                "/v1/leads", json=body, headers={**headers, "Idempotency-Key": key}
            ) as answer:
                status = answer.status
                tally.commands[status] += 1
                payload: Any = await answer.json(content_type=None)
                if status < 300:
                    tally.latencies.append(time.monotonic() - started)
                    # A lead is its own customer until converted.
                    return Acknowledged(key, name, payload["id"], payload["event_ids"])
                if status < 500 and status != 429:  # too many requests: wait, send again
                    tally.refused.append((status, str(payload)[:300]))
                    return None
                if status == 500 and len(tally.five_hundreds) < 20:
                    tally.five_hundreds.append(str(payload)[:500])
                retry_after = answer.headers.get("Retry-After")
                if status == 503 and retry_after is None:
                    tally.unavailable_without_retry_after += 1
                if retry_after is not None:
                    with contextlib.suppress(ValueError):
                        wait = min(1.0, float(retry_after))
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            tally.connection_errors += 1  # the gateway itself is down, or its answer broke
            if len(tally.connection_error_kinds) < 20:
                tally.connection_error_kinds.append(repr(exc)[:200])
        await asyncio.sleep(wait)
    tally.abandoned += 1
    return None


async def _read(
    http: aiohttp.ClientSession, headers: dict[str, str], acked: Acknowledged, tally: Tally
) -> None:
    path = (
        f"/v1/customers/{acked.customer_id}/timeline"
        if len(tally.acknowledged) % 2
        else f"/v1/search?q={acked.name.split()[-1]}"
    )
    try:
        async with http.get(path, headers=headers) as answer:
            tally.reads[answer.status] += 1
            await answer.read()
            if answer.status == 503 and "Retry-After" not in answer.headers:
                tally.unavailable_without_retry_after += 1
            if answer.status == 500 and len(tally.five_hundreds) < 20:
                tally.five_hundreds.append(f"GET {path}: {(await answer.read())[:400]!r}")
    except (aiohttp.ClientError, TimeoutError):
        tally.connection_errors += 1
