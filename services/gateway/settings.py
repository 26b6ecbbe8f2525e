"""The gateway's settings, from ``CRM_GATEWAY_*`` environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.topics import EXTERNAL


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_GATEWAY_", extra="ignore")

    upstreams: dict[str, str] = {}
    """Context name -> its API's base URL, over the context's own URL setting (e.g.
    ``CRM_GATEWAY_SALES_URL``, named in the catalogue) and its default."""
    max_body_bytes: int = 1 << 20
    rate_per_second: float = 200.0
    rate_burst: int = 400
    cors_origins: str = ""  # comma-separated front-end origins, e.g. https://app.example.com
    max_wait_seconds: float = 10.0
    upstream_timeout_seconds: float = 30.0
    events_topic: str = EXTERNAL.name
    max_batch_events: int = 500
    max_streams_per_client: int = 5
    failed_auth_per_second: float = 5.0  # per client address
    failed_auth_burst: int = 20
