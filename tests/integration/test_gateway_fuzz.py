"""Fuzzing the gateway from its own OpenAPI document (schemathesis).

Every operation is called with requests generated from the document, as an admin
(every route open), through the real gateway and sales service on real ports, Kafka and
PostgreSQL. No answer may be a server error, and every answer must match what the
document declares: its status code, its content type and its schema.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contracts.topics import TopicSpec
from services.gateway.app import create_app
from services.platform.kafka import ensure_topics
from tests.gateway_stack import gateway_stack

pytestmark = pytest.mark.integration

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Built from the app itself at collection time: no server is needed to know the routes.
# The live stream never ends, so it is left to the end-to-end test.
schema = schemathesis.openapi.from_dict(create_app().openapi()).exclude(
    path="/v1/customers/{customer_id}/timeline/stream"
)


@pytest.fixture(scope="module")
def running_gateway(infra: Any) -> Iterator[dict[str, Any]]:
    """Sales and gateway served from a thread of their own: schemathesis calls block."""
    started = threading.Event()
    state: dict[str, Any] = {}

    async def serve() -> None:
        topic = "test.fuzz.external"
        await ensure_topics(infra.kafka_bootstrap, [TopicSpec(topic, 1, "fuzz")])
        async with gateway_stack(
            infra.database_url, infra.kafka_bootstrap, "t_gateway_fuzz",
            events_topic=topic, rate_per_second=100_000.0, rate_burst=100_000,
        ) as stack:  # fmt: skip
            state["url"] = stack.gateway_url
            state["headers"] = stack.headers("admin", "fuzzer")
            state["stop"] = asyncio.Event()
            state["loop"] = asyncio.get_running_loop()
            started.set()
            await state["stop"].wait()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert started.wait(60), "the gateway did not start"
    yield state
    state["loop"].call_soon_threadsafe(state["stop"].set)
    thread.join(30)


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_no_schema_violation(case: Any, running_gateway: Any) -> None:
    case.call_and_validate(
        base_url=running_gateway["url"],
        headers=running_gateway["headers"],
        checks=CHECKS,
        timeout=30,
    )
