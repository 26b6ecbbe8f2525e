"""What the gateway holds while it runs: key ring, pools, HTTP client, producer, limits."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg

from services.gateway.auth import KeyRing, local_key_file
from services.gateway.middleware import RateLimiter
from services.gateway.reads import Projections
from services.gateway.settings import GatewaySettings
from services.platform.kafka import LazyProducer, make_producer
from services.platform.logging import get_logger

log = get_logger(__name__)


@dataclass
class GatewayRuntime:
    settings: GatewaySettings
    keys: KeyRing
    pool: asyncpg.Pool
    http: aiohttp.ClientSession
    producer: LazyProducer
    limiter: RateLimiter
    projections: Projections
    failed_auth: RateLimiter = field(default_factory=lambda: RateLimiter(5.0, 20))
    keys_file: Path | None = None  # the local key ring, re-read when it changes
    _keys_seen: tuple[float, int | None] = (0.0, None)  # (checked at, file mtime)
    streams: dict[str, int] = field(default_factory=dict)  # open live streams per client
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def create(
        cls,
        settings: GatewaySettings,
        database_url: str,
        kafka_bootstrap: str,
        keys: KeyRing | None = None,
    ) -> GatewayRuntime:
        pool = await asyncpg.create_pool(
            database_url,
            min_size=1,
            max_size=10,
            server_settings={
                "search_path": "timeline,customer360,public",
                "application_name": "crm-gateway",
            },
        )
        assert pool is not None
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=30),
            timeout=aiohttp.ClientTimeout(total=settings.upstream_timeout_seconds),
        )
        return cls(
            settings=settings,
            keys=keys or KeyRing.load(),
            keys_file=None if keys or os.environ.get("CRM_GATEWAY_JWT_KEYS") else local_key_file(),
            pool=pool,
            http=http,
            producer=LazyProducer(lambda: make_producer(kafka_bootstrap)),
            limiter=RateLimiter(settings.rate_per_second, settings.rate_burst),
            failed_auth=RateLimiter(settings.failed_auth_per_second, settings.failed_auth_burst),
            projections=Projections(pool),
        )

    def current_keys(self) -> KeyRing:
        """The key ring, re-read (at most every 2 s) when its local file changed: a key
        rotated or an API key added or revoked with ``crm auth`` needs no restart."""
        if self.keys_file is None:
            return self.keys
        now = time.monotonic()
        checked_at, mtime = self._keys_seen
        if now - checked_at < 2.0:
            return self.keys
        try:
            current = self.keys_file.stat().st_mtime_ns
        except OSError:
            current = None
        if mtime is not None and current is not None and current != mtime:
            self.keys = KeyRing.load()
            log.info("gateway.keys_reloaded", kids=sorted(self.keys.keys))
        self._keys_seen = (now, current)
        return self.keys

    async def close(self) -> None:
        self.stop.set()
        await self.http.close()
        await self.producer.drop()
        await self.pool.close()
