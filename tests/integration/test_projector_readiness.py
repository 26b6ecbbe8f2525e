"""A projector's /readyz means "consuming and within lag", against real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.events.sales import PurchaseMade
from contracts.money import Money
from projections.__main__ import _run
from services.platform.consumer import ConsumedEvent, running_consumers
from services.platform.settings import Settings
from tests.gateway_stack import free_port
from tests.kafka_helpers import publish
from tests.projection_helpers import cloud_event, throwaway_timeline

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def purchases(count: int) -> list[Any]:
    return [purchase(n) for n in range(count)]


def purchase(n: int) -> Any:
    event = PurchaseMade(
        order_id=uuid.uuid4(),
        customer_id=f"c-{n % 3}",
        total=Money(amount=Decimal(n + 1), currency="BRL"),
    )
    return cloud_event(event, datetime.now(UTC), streamid=f"order-{n}", streamversion=1)


async def until(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        await asyncio.sleep(0.1)


async def status(http: httpx.AsyncClient, url: str) -> int | None:
    try:
        return (await http.get(url)).status_code
    except httpx.HTTPError:
        return None  # not listening yet


@pytest.mark.timeout(120)
async def test_not_ready_while_behind_ready_once_caught_up(infra, topic_factory) -> None:
    async with throwaway_timeline(infra.database_url, topic_factory) as spec:
        gate = asyncio.Event()  # holds the projector back, so that it stays behind

        async def held(conn: Any, event: ConsumedEvent) -> None:
            await gate.wait()
            await spec.handler(conn, event)

        async def held_batch(conn: Any, events: Sequence[ConsumedEvent]) -> None:
            await gate.wait()
            assert spec.batch_handler is not None
            await spec.batch_handler(conn, events)

        held_spec = dataclasses.replace(spec, handler=held, batch_handler=held_batch)
        await publish(infra.kafka_bootstrap, spec.topics[0], purchases(30))
        port = free_port()
        settings = Settings(database_url=infra.database_url, kafka_bootstrap=infra.kafka_bootstrap,
                            http_port=port, ready_max_lag=10)  # fmt: skip
        url = f"http://127.0.0.1:{port}/readyz"
        stop = asyncio.Event()
        projector = asyncio.create_task(_run(held_spec, settings, stop))
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                await until(lambda: _answers(http, url), "the projector's /readyz")
                assert await status(http, url) == 503  # not consuming yet, or 30 behind

                async def assigned_and_held() -> bool:
                    return [await c.lag() for c in running_consumers()] == [30]

                await until(assigned_and_held, "the projector to hold 30 records back")
                assert await status(http, url) == 503  # consuming, but 30 > 10 behind
                gate.set()
                await until(lambda: _is(http, url, 200), "the projector to catch up")
                assert [await c.lag() for c in running_consumers()] == [0]
        finally:
            gate.set()
            stop.set()
            await projector
        assert running_consumers() == ()


@pytest.mark.timeout(180)
async def test_a_projector_standing_by_is_not_ready_until_it_takes_over(
    infra, topic_factory
) -> None:
    async with throwaway_timeline(infra.database_url, topic_factory) as spec:
        await publish(infra.kafka_bootstrap, spec.topics[0], purchases(5))
        projectors = [_projector(infra, spec), _projector(infra, spec)]
        try:
            async with httpx.AsyncClient(timeout=5) as http:

                async def one_ready() -> bool:
                    answers = [await status(http, p.url) for p in projectors]
                    return sorted(answers, key=str) == [200, 503]

                # Whichever took the writer lock consumes; the other cannot, so is not ready.
                await until(one_ready, "one projector ready and the other standing by")
                statuses = [await status(http, p.url) for p in projectors]
                writer, standby = sorted(projectors, key=lambda p: statuses[projectors.index(p)])
                writer.process.send_signal(signal.SIGKILL)
                writer.process.wait()
                await until(lambda: _is(http, standby.url, 200), "the other one to take over")
        finally:
            for running in projectors:
                running.process.kill()
                running.process.wait()


@dataclasses.dataclass
class _Projector:
    process: subprocess.Popen[bytes]
    url: str


def _projector(infra: Any, spec: Any) -> _Projector:
    """``python -m projections run`` as ``make run`` starts it, on the test's own topics."""
    port = free_port()
    env = {
        **os.environ,
        "CRM_DATABASE_URL": infra.database_url,
        "CRM_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "CRM_HTTP_PORT": str(port),
        "CRM_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "projections", "run", "timeline", "--as", spec.name,
               "--topic", spec.topics[0], "--dlt", spec.dead_letter_topic]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return _Projector(process, f"http://127.0.0.1:{port}/readyz")


async def _answers(http: httpx.AsyncClient, url: str) -> bool:
    return await status(http, url) is not None


async def _is(http: httpx.AsyncClient, url: str, expected: int) -> bool:
    return await status(http, url) == expected
