"""Run a real Kafka broker and PostgreSQL server on this machine, without Docker.

Kafka runs from jars fetched from Maven Central (``deploy/kafka/pom.xml``) on the
machine's JDK, as a single KRaft node; PostgreSQL runs from the machine's server
binaries. Everything lives under ``CRM_LOCAL_DIR`` (default ``<repo>/.local``).
Only the standard library is used so this works before the project is installed.

This module is the public surface (start, stop, status); the work is split by job:
``config`` (where and which ports), ``processes`` (pids, ports, the lock), ``kafka`` and
``postgres``.
"""

from __future__ import annotations

from typing import Any

from deploy.local.config import (
    DEFAULT_KAFKA_CONTROLLER_PORT,
    DEFAULT_KAFKA_HEAP,
    DEFAULT_KAFKA_PORT,
    DEFAULT_PG_PORT,
    PG_DATABASE,
    PG_PASSWORD,
    PG_USER,
    Endpoints,
    LauncherError,
    LocalConfig,
    _resolve,
)
from deploy.local.kafka import (
    _kafka_answers,
    _kafka_pid,
    _launch_kafka,
    _stop_kafka,
    _wait_kafka_ready,
    kafka_server_settings,
)
from deploy.local.postgres import _pg_answers, _pg_layout, _pg_pid, _start_postgres, _stop_postgres
from deploy.local.processes import _lock

__all__ = [
    "DEFAULT_KAFKA_CONTROLLER_PORT",
    "DEFAULT_KAFKA_HEAP",
    "DEFAULT_KAFKA_PORT",
    "DEFAULT_PG_PORT",
    "PG_DATABASE",
    "PG_PASSWORD",
    "PG_USER",
    "Endpoints",
    "LauncherError",
    "LocalConfig",
    "down",
    "ensure_up",
    "kafka_server_settings",
    "start_kafka",
    "start_postgres",
    "status",
    "stop_kafka",
    "stop_postgres",
]


def ensure_up(config: LocalConfig | None = None) -> Endpoints:
    """Start whatever of Kafka and PostgreSQL is not running and wait until both are ready."""
    cfg = _resolve(config)
    with _lock(cfg):
        # The broker boots in the background while PostgreSQL starts: saves a few seconds.
        launched = _launch_kafka(cfg)
        _start_postgres(cfg)
        _wait_kafka_ready(cfg, *launched)
    return cfg.endpoints


def down(config: LocalConfig | None = None) -> None:
    """Stop Kafka and PostgreSQL if they run; data stays for the next ``ensure_up``."""
    cfg = _resolve(config)
    with _lock(cfg):
        _stop_kafka(cfg, hard=False)
        _stop_postgres(cfg)


def start_kafka(config: LocalConfig | None = None) -> None:
    """Start the broker unless it runs, then wait until it answers requests."""
    cfg = _resolve(config)
    with _lock(cfg):
        _wait_kafka_ready(cfg, *_launch_kafka(cfg))


def stop_kafka(config: LocalConfig | None = None, hard: bool = False) -> None:
    """Stop the broker: SIGTERM (controlled shutdown), or SIGKILL at once when ``hard``."""
    cfg = _resolve(config)
    with _lock(cfg):
        _stop_kafka(cfg, hard=hard)


def start_postgres(config: LocalConfig | None = None) -> None:
    """Start PostgreSQL unless it runs; make sure the database and extensions exist."""
    cfg = _resolve(config)
    with _lock(cfg):
        _start_postgres(cfg)


def stop_postgres(config: LocalConfig | None = None) -> None:
    """Stop PostgreSQL (fast mode) if it runs."""
    cfg = _resolve(config)
    with _lock(cfg):
        _stop_postgres(cfg)


def status(config: LocalConfig | None = None) -> dict[str, dict[str, Any]]:
    """Report each component: running, healthy, pid, port, log path and data paths."""
    cfg = _resolve(config)
    kafka_pid = _kafka_pid(cfg)
    kafka: dict[str, Any] = {
        "running": kafka_pid is not None,
        "healthy": kafka_pid is not None and _kafka_answers(cfg.kafka_port),
        "pid": kafka_pid,
        "port": cfg.kafka_port,
        "controller_port": cfg.kafka_controller_port,
        "bootstrap": cfg.endpoints.kafka_bootstrap,
        "log": str(cfg.kafka_log),
        "data_dir": str(cfg.kafka_data),
    }
    layout = _pg_layout(cfg, create_user=False)
    pg_pid = _pg_pid(layout.data_dir)
    postgres: dict[str, Any] = {
        "running": pg_pid is not None,
        "healthy": pg_pid is not None and _pg_answers(cfg, layout),
        "pid": pg_pid,
        "port": cfg.pg_port,
        "url": cfg.endpoints.database_url,
        "log": str(layout.log_file),
        "data_dir": str(layout.data_dir),
        "socket_dir": str(layout.socket_dir),
        "note": layout.note,
    }
    return {"kafka": kafka, "postgres": postgres}
