"""Settings read from the environment (prefix ``CRM_``), with local-launcher defaults."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    database_url: str = "postgresql://crm:crm@127.0.0.1:55432/crm"
    kafka_bootstrap: str = "127.0.0.1:19092"
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
