"""Local Kafka and PostgreSQL without Docker: ``python -m deploy.local up|down|status``."""

from deploy.local.launcher import (
    Endpoints,
    LauncherError,
    LocalConfig,
    down,
    ensure_up,
    start_kafka,
    start_postgres,
    status,
    stop_kafka,
    stop_postgres,
)

__all__ = [
    "Endpoints",
    "LauncherError",
    "LocalConfig",
    "down",
    "ensure_up",
    "start_kafka",
    "start_postgres",
    "status",
    "stop_kafka",
    "stop_postgres",
]
