"""What the support handlers run on: the pool, the event store, the rules and
configuration the composition root read (``services.support.bootstrap``), the adapters
to the outside world, and a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import asyncpg

from contracts.catalogue import SUPPORT_CONTEXT
from services.platform.commands import CommandHandler
from services.platform.decider import Decider
from services.platform.eventstore import EventStore
from services.platform.privacy.data_keys import SubjectKeys
from services.support.domain.recurring_failure import RecurringRules
from services.support.domain.satisfaction_config import SatisfactionSettings
from services.support.domain.self_service_config import SelfServiceRules
from services.support.domain.teams import TeamRules

if TYPE_CHECKING:
    from services.support.application.ports import Carrier, Payments
    from services.support.application.sla_settings import SlaSettings

S = TypeVar("S")
C = TypeVar("C")
SOURCE = SUPPORT_CONTEXT.source


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who calls: the person the gateway vouches for (``x-actor-*`` headers)."""

    actor_id: str | None
    role: str | None
    team: str | None = None


DEFAULT_SIMILARITY_KEY = b"crm-support-case-similarity"
"""Only for tests and local runs: production sets ``CRM_SUPPORT_SIMILARITY_KEY``."""


@dataclass
class SupportRuntime:
    pool: asyncpg.Pool
    commands: CommandHandler
    store: EventStore
    teams: TeamRules
    sla: SlaSettings
    keys: SubjectKeys
    clock: Callable[[], datetime] = utc_now
    satisfaction: SatisfactionSettings = field(default_factory=SatisfactionSettings)
    self_service: SelfServiceRules = field(default_factory=SelfServiceRules)
    carrier: Carrier | None = None
    payments: Payments | None = None
    recurring: RecurringRules = field(default_factory=RecurringRules)
    similarity_key: bytes = DEFAULT_SIMILARITY_KEY
    """The key of the case signatures' hash (``CRM_SUPPORT_SIMILARITY_KEY`` in production)."""

    @property
    def reopen_period(self) -> timedelta:
        return timedelta(days=self.teams.reopen_period_days)

    async def load(self, decider: Decider[C, S], stream_id: str) -> tuple[S, int]:
        """Current state and version of a stream, outside any command."""
        history = await self.store.read_stream(stream_id)
        version = history[-1].stream_version if history else 0
        return decider.fold(e.domain_event() for e in history), version
