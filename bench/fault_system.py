"""The whole system on infrastructure of its own, for tests and benchmarks that break it:
its own PostgreSQL and Kafka broker (so stopping them disturbs nothing else), the
processes as ``make run`` supervises them (a process killed is started again), and the
faults themselves: ``kill -9`` of a process, PostgreSQL stopped in immediate mode, the
broker killed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from deploy.local.launcher import LocalConfig, down, ensure_up, start_kafka, start_postgres
from deploy.local.launcher import stop_kafka as _stop_kafka
from services.gateway.auth import KeyRing

ROOT = Path(__file__).resolve().parents[2]
SIGNING_KEY = "fault-signing-key-0123456789abcdef0123456789"
PROCESSES = ("gateway", "sales-api", "sales-relay", "sales-scheduler",
             "timeline-projector", "customer360-projector")  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class FaultSystem:
    infra: LocalConfig
    database_url: str
    kafka_bootstrap: str
    gateway: str
    state: Path
    supervisor: subprocess.Popen[bytes]
    pg_data_dir: Path

    def tokens(self, clients: int) -> list[str]:
        """One admin token per client, each its own caller."""
        ring = KeyRing({"fault": SIGNING_KEY}, "fault")
        return [ring.issue(f"fault-admin-{n}", "admin", ttl_seconds=3600) for n in range(clients)]

    def pid(self, name: str) -> int:
        return int((self.state / "run" / f"{name}.pid").read_text())

    def kill(self, name: str) -> int:
        """``kill -9`` of one process; the supervisor starts it again. Its old pid."""
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_restarted(self, name: str, old_pid: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.pid(name) != old_pid:
                    return
            except (OSError, ValueError):
                pass  # the pid file is being written
            time.sleep(0.1)
        raise TimeoutError(f"{name} was not started again")

    def stop_postgres_immediately(self) -> None:
        """The postmaster's immediate shutdown (SIGQUIT): no checkpoint, connections cut,
        crash recovery at the next start, as after a power cut of the server alone."""
        pid = int((self.pg_data_dir / "postmaster.pid").read_text().split("\n")[0])
        os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 60
        while _port_open(self.infra.pg_port):
            if time.monotonic() > deadline:
                raise TimeoutError("PostgreSQL did not stop")
            time.sleep(0.05)

    def start_postgres(self) -> None:
        start_postgres(self.infra)

    def kill_kafka(self) -> None:
        _stop_kafka(self.infra, hard=True)

    def start_kafka(self) -> None:
        start_kafka(self.infra)


async def _fetch(database_url: str, query: str) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_fault_system(directory: Path) -> FaultSystem:
    infra = LocalConfig(
        local_dir=directory / "infra",
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        pg_port=free_port(),
    )
    endpoints = ensure_up(infra)
    data_dir = Path(asyncio.run(_fetch(endpoints.database_url, "SHOW data_directory")))
    ports = {name: free_port() for name in PROCESSES}
    state = directory / "state"
    env = {
        **os.environ,
        "CRM_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "CRM_DATABASE_URL": endpoints.database_url,
        "PYTHONPATH": str(ROOT),
        "CRM_LOG_LEVEL": "WARNING",
        "CRM_GATEWAY_JWT_KEYS": json.dumps({"fault": SIGNING_KEY}),
    }
    supervisor = subprocess.Popen(
        [
            sys.executable, "-m", "deploy.local.run", "--no-infra", "--state-dir", str(state),
            "--gateway-port", str(ports["gateway"]), "--sales-port", str(ports["sales-api"]),
            "--sales-relay-port", str(ports["sales-relay"]),
            "--sales-scheduler-port", str(ports["sales-scheduler"]),
            "--timeline-port", str(ports["timeline-projector"]),
            "--customer360-port", str(ports["customer360-projector"]),
        ],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    system = FaultSystem(
        infra, endpoints.database_url, endpoints.kafka_bootstrap,
        f"http://127.0.0.1:{ports['gateway']}", state, supervisor, data_dir,
    )  # fmt: skip
    ready = [f"http://127.0.0.1:{ports[name]}/readyz" for name in PROCESSES]
    deadline = time.monotonic() + 90
    while True:
        try:
            if all(httpx.get(url, timeout=1).status_code == 200 for url in ready):
                return system
        except httpx.HTTPError:
            pass
        if supervisor.poll() is not None or time.monotonic() > deadline:
            stop_fault_system(system)
            raise RuntimeError(f"the fault system did not get ready: {ready}")
        time.sleep(0.2)


def stop_fault_system(system: FaultSystem) -> None:
    if system.supervisor.poll() is None:
        system.supervisor.send_signal(signal.SIGINT)
        try:
            system.supervisor.wait(timeout=60)
        except subprocess.TimeoutExpired:
            system.supervisor.kill()
    down(system.infra)
