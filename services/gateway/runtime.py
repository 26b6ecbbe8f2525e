"""What the gateway holds while it runs: key ring, pools, HTTP client, producer, limits."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg

from services.gateway.auth import KeyRing, key_file_identity, local_dir_of, local_key_file
from services.gateway.middleware import RateLimiter
from services.gateway.reads import Projections
from services.gateway.settings import GatewaySettings
from services.platform.kafka import LazyProducer, make_producer
from services.platform.logging import get_logger
from services.platform.privacy.data_keys import DataKeys, data_keys_from_environment

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
    data_keys: DataKeys
    """Seals the personal fields of other systems' events before they are published."""
    failed_auth: RateLimiter = field(default_factory=lambda: RateLimiter(5.0, 20))
    keys_file: Path | None = None  # the local key ring, re-read when it changes
    keys_check_seconds: float = 2.0  # how often to look whether it changed
    _keys_seen: tuple[float, tuple[int, int, int] | None] = (0.0, None)  # (checked at, file id)
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
        # The key ring first: a gateway that cannot find or create it says so at once.
        keys_file = None if keys or os.environ.get("CRM_GATEWAY_JWT_KEYS") else local_key_file()
        seen = key_file_identity(keys_file) if keys_file else None
        ring = keys or KeyRing.load()
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
            keys=ring,
            keys_file=keys_file,
            _keys_seen=(time.monotonic(), seen),
            pool=pool,
            http=http,
            producer=LazyProducer(lambda: make_producer(kafka_bootstrap)),
            limiter=RateLimiter(settings.rate_per_second, settings.rate_burst),
            failed_auth=RateLimiter(settings.failed_auth_per_second, settings.failed_auth_burst),
            projections=Projections(pool),
            data_keys=data_keys_from_environment(pool),
        )

    def current_keys(self) -> KeyRing:
        """The key ring, re-read (at most every ``keys_check_seconds``) when its local file
        changed: a key rotated or an API key added or revoked with ``crm auth`` needs no
        restart."""
        if self.keys_file is None:
            return self.keys
        now = time.monotonic()
        checked_at, seen = self._keys_seen
        if now - checked_at < self.keys_check_seconds:
            return self.keys
        current = key_file_identity(self.keys_file)
        if seen is not None and current is not None and current != seen:
            self.keys = KeyRing.load(local_dir_of(self.keys_file))
            log.info("gateway.keys_reloaded", kids=sorted(self.keys.keys))
        self._keys_seen = (now, current)
        return self.keys

    def reload_keys_if_changed(self) -> bool:
        """On an unknown key id: re-read the key ring file now if it changed since it was
        read, so an API key just made with ``crm auth api-key`` works on its first
        request. Guessed ids cannot make it re-read an unchanged file: they cost a stat."""
        if self.keys_file is None:
            return False
        current = key_file_identity(self.keys_file)
        if current is None or current == self._keys_seen[1]:
            return False
        self.keys = KeyRing.load(local_dir_of(self.keys_file))
        self._keys_seen = (time.monotonic(), current)
        log.info("gateway.keys_reloaded", kids=sorted(self.keys.keys), cause="unknown key")
        return True

    async def close(self) -> None:
        self.stop.set()
        await self.http.close()
        await self.producer.drop()
        await self.pool.close()
