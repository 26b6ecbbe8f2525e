"""Where the tests find real Kafka and PostgreSQL, in this order:

1. endpoints given in the environment (``CRM_TEST_KAFKA_BOOTSTRAP`` and
   ``CRM_TEST_DATABASE_URL``);
2. testcontainers, when a Docker engine answers (apache/kafka and postgres images);
3. the project's local launcher (``deploy/local``), which starts both from the machine's
   JDK and PostgreSQL binaries.

When ``CI=true`` missing infrastructure fails the run; elsewhere it skips the tests that
need it, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap: str
    database_url: str
    provider: str
    handle: Any = None


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return (
            subprocess.run(
                ["docker", "info"], capture_output=True, timeout=5, check=False
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def _from_testcontainers() -> Infra:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft()
    postgres = PostgresContainer("postgres:15", username="crm", password="crm", dbname="crm")
    kafka.start()
    postgres.start()
    url = postgres.get_connection_url(driver=None).replace("postgresql+psycopg2", "postgresql")
    return Infra(kafka.get_bootstrap_server(), url, "testcontainers", (kafka, postgres))


def start_infra() -> Infra:
    kafka = os.environ.get("CRM_TEST_KAFKA_BOOTSTRAP")
    database = os.environ.get("CRM_TEST_DATABASE_URL")
    if kafka and database:
        return Infra(kafka, database, "environment")
    if _docker_answers():
        return _from_testcontainers()
    from deploy.local.launcher import ensure_up

    endpoints = ensure_up()
    return Infra(endpoints.kafka_bootstrap, endpoints.database_url, "local launcher")


def stop_infra(infra: Infra) -> None:
    if infra.provider == "testcontainers":
        for container in infra.handle:
            container.stop()
