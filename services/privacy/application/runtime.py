"""What the privacy handlers run on: the pool, its event store, the key registry, where
the read models are, and a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from contracts.catalogue import PRIVACY_CONTEXT
from services.platform.commands import CommandHandler
from services.platform.db import check_schema_name
from services.platform.eventstore import EventStore
from services.platform.privacy.data_keys import DataKeys

SOURCE = PRIVACY_CONTEXT.source


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReadModels:
    """The projections' reader schemas (public read models): a test points at its own."""

    timeline: str = "timeline"
    customer360: str = "customer360"

    def __post_init__(self) -> None:
        check_schema_name(self.timeline)
        check_schema_name(self.customer360)


@dataclass(frozen=True)
class Actor:
    """Who asks: the person the gateway vouches for (``x-actor-*``), or ``cli:<user>``."""

    actor_id: str
    role: str


@dataclass
class PrivacyRuntime:
    pool: asyncpg.Pool
    store: EventStore
    keys: DataKeys
    commands: CommandHandler
    read_models: ReadModels = field(default_factory=ReadModels)
    clock: Callable[[], datetime] = utc_now
