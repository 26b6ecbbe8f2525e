"""``make run``: infrastructure plus every service as its own process, one Ctrl-C stops all.

Starts Kafka and PostgreSQL (unless endpoints are given in ``CRM_KAFKA_BOOTSTRAP`` /
``CRM_DATABASE_URL`` with ``--no-infra``), creates the catalogue's topics, then supervises
the processes of the service catalogue (``contracts/catalogue.py``), each on its
catalogue port unless a ``--<name>-port`` flag (or the process's own port setting in the
environment) says otherwise: a process that dies is restarted (its state is in PostgreSQL and
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

from contracts.catalogue import CONTEXTS, Process, all_processes
from deploy.local.launcher import LocalConfig, ensure_up, status, stop_kafka, stop_postgres

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Child:
    process_entry: Process
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)

    @property
    def name(self) -> str:
        return self.process_entry.name

    @property
    def argv(self) -> list[str]:
        return [sys.executable, "-m", *self.process_entry.module_args]

    @property
    def url(self) -> str:
        """Where a person looks first: the API's docs, else the readiness endpoint."""
        path = "/docs" if self.process_entry.kind in ("gateway", "api") else None
        return f"http://127.0.0.1:{self.port}{path or self.process_entry.readiness_path}"


def port_flag(entry: Process) -> str:
    return f"--{entry.name}-port"


def _old_flag(entry: Process) -> str | None:
    """The flag each process had before the catalogue (``--sales-port``,
    ``--timeline-port``), kept so scripts that start ``make run`` keep working."""
    if entry.kind == "api":
        return f"--{entry.name.removesuffix('-api')}-port"
    if entry.kind == "projector":
        return f"--{entry.name.removesuffix('-projector')}-port"
    return None


def _default_port(entry: Process) -> int:
    # CRM_HTTP_PORT is every worker's setting: only a process's own one is a default.
    own = entry.port_setting != "CRM_HTTP_PORT" and os.environ.get(entry.port_setting)
    return int(own) if own else entry.port


def _children(args: argparse.Namespace, logs: Path) -> list[Child]:
    return [
        Child(entry, getattr(args, _dest(entry)), logs / f"{entry.name}.log")
        for entry in all_processes()
    ]


def _dest(entry: Process) -> str:
    return f"{entry.name.replace('-', '_')}_port"


def _child_env(child: Child, children: list[Child], bootstrap: str, db: str) -> dict[str, str]:
    env = {
        **os.environ,
        "CRM_KAFKA_BOOTSTRAP": bootstrap,
        "CRM_DATABASE_URL": db,
        "CRM_LOG_JSON": "true",
        "PYTHONPATH": str(ROOT),
        child.process_entry.port_setting: str(child.port),
    }
    if child.process_entry.kind == "gateway":
        ports = {c.name: c.port for c in children}
        for context in CONTEXTS:
            if context.api is not None:
                env[context.url_setting] = f"http://127.0.0.1:{ports[context.api.name]}"
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
    if not os.environ.get("CRM_MASTER_KEY") and not os.environ.get("CRM_KEY_PROVIDER"):
        # The local installation's master key, made once beside its database; the
        # children inherit it. A deployment passes its own (or a key provider).
        from deploy.local.config import ensure_master_key

        os.environ["CRM_MASTER_KEY"] = ensure_master_key(local.local_dir)
    state = Path(args.state_dir) if args.state_dir else local.local_dir
    logs, pids = state / "logs", state / "run"
    logs.mkdir(parents=True, exist_ok=True)
    pids.mkdir(parents=True, exist_ok=True)
    children = _children(args, logs)
    for child in children:
        _spawn(child, _child_env(child, children, bootstrap, database), pids)

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
                    _spawn(child, _child_env(child, children, bootstrap, database), pids)
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.run", description=__doc__)
    parser.add_argument("--no-infra", action="store_true", help="use CRM_* endpoints as given")
    parser.add_argument(
        "--keep-infra", action="store_true", help="leave Kafka/PostgreSQL up on exit"
    )
    parser.add_argument("--state-dir", help="where logs and pid files go (default .local)")
    for entry in all_processes():
        flags = [port_flag(entry), *filter(None, [_old_flag(entry)])]
        parser.add_argument(
            *flags, dest=_dest(entry), type=int, default=_default_port(entry),
            help=f"{entry.name}'s port (default {entry.port}, or ${entry.port_setting})"
            if entry.port_setting != "CRM_HTTP_PORT" else f"{entry.name}'s port",
        )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(supervise(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
