"""``make run``: infrastructure plus every service as its own process, one Ctrl-C stops all.

Starts Kafka and PostgreSQL (unless endpoints are given in ``CRM_KAFKA_BOOTSTRAP`` /
``CRM_DATABASE_URL`` with ``--no-infra``), creates the catalogue's topics, then supervises
the service processes: a process that dies is restarted (its state is in PostgreSQL and
Kafka, so nothing is lost). On Ctrl-C or SIGTERM every child gets SIGTERM, then SIGKILL
after a grace period, and infrastructure this run started is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from deploy.local.launcher import LocalConfig, ensure_up, status, stop_kafka, stop_postgres

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Child:
    name: str
    argv: list[str]
    url: str
    log: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)


def _children(args: argparse.Namespace, logs: Path) -> list[Child]:
    py = sys.executable
    return [
        Child(
            "gateway",
            [py, "-m", "services.gateway"],
            f"http://127.0.0.1:{args.gateway_port}/docs",
            logs / "gateway.log",
        ),
        Child(
            "sales-api",
            [py, "-m", "services.sales", "api", "--port", str(args.sales_port)],
            f"http://127.0.0.1:{args.sales_port}/docs",
            logs / "sales-api.log",
        ),
        Child(
            "sales-relay",
            [py, "-m", "services.sales", "relay"],
            f"http://127.0.0.1:{args.sales_relay_port}/metrics",
            logs / "sales-relay.log",
        ),
        Child(
            "sales-scheduler",
            [py, "-m", "services.sales", "scheduler"],
            f"http://127.0.0.1:{args.sales_scheduler_port}/healthz",
            logs / "sales-scheduler.log",
        ),
        Child(
            "timeline-projector",
            [py, "-m", "projections", "run", "timeline"],
            f"http://127.0.0.1:{args.timeline_port}/metrics",
            logs / "timeline-projector.log",
        ),
        Child(
            "customer360-projector",
            [py, "-m", "projections", "run", "customer360"],
            f"http://127.0.0.1:{args.customer360_port}/metrics",
            logs / "customer360-projector.log",
        ),
    ]


def _child_env(child: Child, args: argparse.Namespace, bootstrap: str, db: str) -> dict[str, str]:
    ports = {
        "sales-relay": args.sales_relay_port,
        "sales-scheduler": args.sales_scheduler_port,
        "timeline-projector": args.timeline_port,
        "customer360-projector": args.customer360_port,
    }
    env = {
        **os.environ,
        "CRM_KAFKA_BOOTSTRAP": bootstrap,
        "CRM_DATABASE_URL": db,
        "CRM_LOG_JSON": "true",
        "PYTHONPATH": str(ROOT),
    }
    if child.name in ports:
        env["CRM_HTTP_PORT"] = str(ports[child.name])
    if child.name == "gateway":
        env["CRM_GATEWAY_PORT"] = str(args.gateway_port)
        env["CRM_GATEWAY_SALES_URL"] = f"http://127.0.0.1:{args.sales_port}"
    return env


def _spawn(child: Child, env: dict[str, str], pid_dir: Path) -> None:
    with child.log.open("ab") as log:
        child.process = subprocess.Popen(
            child.argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    child.started_at = time.monotonic()
    (pid_dir / f"{child.name}.pid").write_text(str(child.process.pid))


def _terminate(children: list[Child], grace: float = 15.0) -> None:
    for child in children:
        if child.process and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()


async def supervise(args: argparse.Namespace) -> int:
    local = LocalConfig.from_env()
    started: list[str] = []  # the components this run started, and so stops
    if args.no_infra:
        bootstrap = os.environ.get("CRM_KAFKA_BOOTSTRAP", local.endpoints.kafka_bootstrap)
        database = os.environ.get("CRM_DATABASE_URL", local.endpoints.database_url)
    else:
        before = status(local)
        endpoints = await asyncio.to_thread(ensure_up, local)
        started = [name for name, part in before.items() if not part["running"]]
        bootstrap, database = endpoints.kafka_bootstrap, endpoints.database_url

    from contracts.topics import TOPICS
    from services.platform.kafka import ensure_topics

    await ensure_topics(bootstrap, TOPICS)
    # Schema changes are a step of their own, before any process starts (`crm migrate`).
    from contracts.catalogue import migration_modules
    from services.platform.migrate import migrate_all

    for line in await migrate_all(database, migration_modules()):
        print(f"  migrated {line}", flush=True)
    state = Path(args.state_dir) if args.state_dir else local.local_dir
    logs, pids = state / "logs", state / "run"
    logs.mkdir(parents=True, exist_ok=True)
    pids.mkdir(parents=True, exist_ok=True)
    children = _children(args, logs)
    for child in children:
        _spawn(child, _child_env(child, args, bootstrap, database), pids)

    print("\nCRM is running. Ctrl-C stops everything.\n")
    print(f"  Kafka       {bootstrap}")
    print(f"  PostgreSQL  {database}")
    for child in children:
        print(
            f"  {child.name:<19} pid {child.process.pid if child.process else '?':<7} {child.url}"
        )
    print(f"  logs        {logs}/*.log\n", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set():
            for child in children:
                assert child.process is not None
                code = child.process.poll()
                if code is not None and not stop.is_set():
                    # A crash costs nothing but time: state lives in PostgreSQL and Kafka.
                    backoff = 5.0 if time.monotonic() - child.started_at < 5 else 0.5
                    print(f"  {child.name} exited ({code}); restarting", flush=True)
                    await asyncio.sleep(backoff)
                    child.restarts += 1
                    _spawn(child, _child_env(child, args, bootstrap, database), pids)
            try:
                await asyncio.wait_for(stop.wait(), timeout=0.5)
            except TimeoutError:
                pass
    finally:
        print("\nstopping services …", flush=True)
        await asyncio.to_thread(_terminate, children)
        for child in children:
            (pids / f"{child.name}.pid").unlink(missing_ok=True)
        if started and not args.keep_infra:
            print(f"stopping {' and '.join(started)} (started by this run) …", flush=True)
            if "kafka" in started:
                await asyncio.to_thread(stop_kafka, local)
            if "postgres" in started:
                await asyncio.to_thread(stop_postgres, local)
        print("stopped.", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.run", description=__doc__)
    parser.add_argument("--no-infra", action="store_true", help="use CRM_* endpoints as given")
    parser.add_argument(
        "--keep-infra", action="store_true", help="leave Kafka/PostgreSQL up on exit"
    )
    parser.add_argument("--state-dir", help="where logs and pid files go (default .local)")
    parser.add_argument(
        "--gateway-port", type=int, default=int(os.environ.get("CRM_GATEWAY_PORT", 8100))
    )
    parser.add_argument(
        "--sales-port", type=int, default=int(os.environ.get("CRM_SALES_PORT", 8101))
    )
    parser.add_argument("--sales-relay-port", type=int, default=9101)
    parser.add_argument("--sales-scheduler-port", type=int, default=9102)
    parser.add_argument("--timeline-port", type=int, default=9201)
    parser.add_argument("--customer360-port", type=int, default=9202)
    args = parser.parse_args(argv)
    try:
        return asyncio.run(supervise(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
