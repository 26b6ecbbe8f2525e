"""The schemathesis command line against the running gateway and sales service.

``schemathesis run <gateway>/openapi.json --checks all`` with an admin token, every
phase (examples, coverage, fuzzing, stateful), examples limited to stay within about a
minute. It must find nothing but the business rules JSON Schema cannot express, each
listed with its reason in ``gateway_fuzz_allowlist.json``.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.topics import TopicSpec
from services.platform.kafka import ensure_topics
from tests.gateway_stack import gateway_stack

pytestmark = pytest.mark.integration

ALLOWLIST = Path(__file__).with_name("gateway_fuzz_allowlist.json")
MAX_EXAMPLES = 10


@pytest.fixture(scope="module")
def running_gateway(infra: Any) -> Iterator[dict[str, Any]]:
    """Sales and gateway served from a thread of their own, for a process to call."""
    started = threading.Event()
    state: dict[str, Any] = {}

    async def serve() -> None:
        topic = "test.schemathesis-cli.external"
        await ensure_topics(infra.kafka_bootstrap, [TopicSpec(topic, 1, "fuzz")])
        async with gateway_stack(
            infra.database_url, infra.kafka_bootstrap, "t_gateway_st_cli", events_topic=topic,
            rate_per_second=100_000.0, rate_burst=100_000, failed_auth_burst=100_000,
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


def schemathesis_command() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert found, "schemathesis is a dev dependency: make install"
    return [found]


def failures(junit: Path) -> list[tuple[str, str, str]]:
    """(operation, code, text) of each failure schemathesis reported, errors included."""
    found = []
    for case in ET.parse(junit).iter("testcase"):
        for outcome in case:
            if outcome.tag not in ("failure", "error"):
                continue
            text = outcome.text or outcome.get("message") or ""
            if outcome.tag == "error":
                found.append((case.get("name", ""), "error", text))
                continue
            for block in re.split(r"\n(?=\d+\. Test Case ID)", text):
                for code in sorted(set(re.findall(r"- (ST\d+|[A-Z]{2}\d+) ", block))) or ["?"]:
                    found.append((case.get("name", ""), code, block))
    return found


def allowed(failure: tuple[str, str, str], entries: list[dict[str, Any]]) -> bool:
    operation, code, text = failure
    return any(
        e["operation"] in ("*", operation) and e["code"] == code and e["match"] in text
        for e in entries
    )


def test_the_allowlist_gives_a_reason_for_every_entry() -> None:
    entries = json.loads(ALLOWLIST.read_text())["allowed"]
    assert entries and all(e["reason"].strip() and e["match"].strip() for e in entries)


@pytest.mark.timeout(480)
def test_schemathesis_cli_finds_only_allowed_business_rules(
    running_gateway: dict[str, Any],
    tmp_path: Path,
) -> None:
    junit = tmp_path / "junit.xml"
    command = [
        *schemathesis_command(), "run", f"{running_gateway['url']}/openapi.json",
        "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
        "--header", f"Authorization: {running_gateway['headers']['Authorization']}",
        "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic",
        # a live stream never ends; the end-to-end tests read it
        "--exclude-path", "/v1/customers/{customer_id}/timeline/stream",
        # One worker: with two threads, Hypothesis parsing source in both at once trips
        # CPython 3.11's AST constructor ("recursion depth mismatch"), a tool error.
        "--workers", "1", "--request-timeout", "30", "--no-color",
        "--report", "junit", "--report-junit-path", str(junit),
    ]  # fmt: skip
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=420)
    assert junit.exists(), run.stdout[-4000:] + run.stderr[-4000:]
    entries = json.loads(ALLOWLIST.read_text())["allowed"]
    found = failures(junit)
    unexpected = [f for f in found if not allowed(f, entries)]
    assert unexpected == [], "\n\n".join(f"{o} {c}\n{t[:1500]}" for o, c, t in unexpected)
    assert "Test cases:" in run.stdout, run.stdout[-2000:]  # it did run, and tested
