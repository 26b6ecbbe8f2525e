"""The system as `make run` starts it, for end-to-end tests: real processes, real ports."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from contracts.catalogue import all_processes
from services.gateway.auth import KeyRing
from tests.gateway_stack import free_port

ROOT = Path(__file__).resolve().parents[2]
E2E_SIGNING_KEY = "e2e-signing-key-0123456789abcdef0123456789"
E2E_API_KEY = "crm_e2eshop_" + "s3cret-for-the-e2e-shop"


@pytest.fixture
def system(infra, tmp_path):
    # Every process of the catalogue on a free port: nothing collides with `make run`.
    ports = {entry.name: free_port() for entry in all_processes()}
    secret = E2E_API_KEY.split("_", 2)[2]
    env = {
        **os.environ,
        "CRM_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "CRM_DATABASE_URL": infra.database_url,
        "PYTHONPATH": str(ROOT),
        "CRM_SUPPORT_SMTP_PORT": str(free_port()),  # the inbound mail listener's
        "CRM_GATEWAY_JWT_KEYS": json.dumps({"e2e": E2E_SIGNING_KEY}),
        "CRM_GATEWAY_API_KEYS": json.dumps({"e2eshop": {
            "sha256": hashlib.sha256(secret.encode()).hexdigest(),
            "role": "integration", "name": "e2e-shop"}}),
    }  # fmt: skip
    process = subprocess.Popen(
        [
            sys.executable, "-m", "deploy.local.run", "--no-infra",
            "--state-dir", str(tmp_path),
            *(arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))),
        ],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{ports['sales-api']}"
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if all(httpx.get(f"{url}/readyz", timeout=1).status_code == 200
                   for url in (base, gateway)):  # fmt: skip
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read().decode() if process.stdout else ""
            process.kill()
            raise RuntimeError(f"system did not start:\n{output}")
        time.sleep(0.2)
    yield {"base": base, "gateway": gateway, "state": tmp_path, "process": process,
           "ports": ports, "keys": KeyRing({"e2e": E2E_SIGNING_KEY}, "e2e")}  # fmt: skip
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)


async def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise TimeoutError("condition not met")
