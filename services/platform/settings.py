"""Settings read from the environment (prefix ``CRM_``), with local-launcher defaults."""

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


# With no URL given, the local launcher's: its ports move with CRM_PG_PORT / CRM_KAFKA_PORT
# when a second instance runs beside the default one (a CI run next to a developer's).
def _local_database_url() -> str:
    return f"postgresql://crm:crm@127.0.0.1:{os.environ.get('CRM_PG_PORT', '55432')}/crm"


def _local_kafka_bootstrap() -> str:
    return f"127.0.0.1:{os.environ.get('CRM_KAFKA_PORT', '19092')}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    database_url: str = Field(default_factory=_local_database_url)
    kafka_bootstrap: str = Field(default_factory=_local_kafka_bootstrap)
    log_level: str = "INFO"
    # None: JSON when stdout is not a terminal (production, CI), console when it is.
    log_json: bool | None = None
    # Port of the health/readiness/metrics endpoint of a long-running process; 0 = any free.
    http_port: int = 0
    # 127.0.0.1 on a developer machine; 0.0.0.0 in a container so Prometheus can scrape.
    http_host: str = "127.0.0.1"
    # A consumer process is ready (/readyz) when consuming with at most this many records
    # left to handle on its partitions.
    ready_max_lag: int = 1000
