"""The support service's composition root: settings, config files and the environment
are read here, once; everything else receives them.

    runtime = bootstrap(pool)                         # __main__
    runtime = bootstrap(pool, clock=lambda: moment)   # a test's override
    runtime = bootstrap(pool, payments=FakePsp())     # an adapter swapped in a test

The carrier and the payment provider are named by ``CRM_SUPPORT_CARRIER`` and
``CRM_SUPPORT_PAYMENTS`` (``module:factory``, the factory called with the pool and the
environment); unset, the local adapters serve.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from services.platform.commands import CommandHandler
from services.platform.eventstore import EventStore
from services.platform.privacy.data_keys import data_keys_from_environment
from services.support.application.ports import Carrier, Payments
from services.support.application.runtime import (
    DEFAULT_SIMILARITY_KEY,
    SOURCE,
    SupportRuntime,
    utc_now,
)
from services.support.application.sla_settings import SlaSettings
from services.support.domain.recurring_failure import RecurringRules
from services.support.domain.satisfaction_config import SatisfactionSettings
from services.support.domain.self_service_config import SelfServiceRules
from services.support.domain.sla_config import load_sla_config
from services.support.domain.teams import TeamRules

CONFIG_DIR = Path(__file__).with_name("config")
LOCAL_CARRIER = "services.support.adapters.local_carrier:local_carrier"
LOCAL_PAYMENTS = "services.support.adapters.local_payments:local_payments"


@dataclass(frozen=True)
class SupportConfig:
    teams: TeamRules
    sla: SlaSettings
    satisfaction: SatisfactionSettings = field(default_factory=SatisfactionSettings)
    self_service: SelfServiceRules = field(default_factory=SelfServiceRules)
    carrier: str = LOCAL_CARRIER
    payments: str = LOCAL_PAYMENTS
    similarity_key: bytes | None = None
    recurring: RecurringRules = field(default_factory=RecurringRules)
    """``CRM_SUPPORT_SIMILARITY_KEY``: the key of the case signatures' hash."""


def load_config(env: Mapping[str, str] | None = None, config_dir: Path = CONFIG_DIR
                ) -> SupportConfig:  # fmt: skip
    env = os.environ if env is None else env
    teams = TeamRules.load(Path(env.get("CRM_SUPPORT_TEAMS_FILE", config_dir / "teams.json")))
    calendars, policies = load_sla_config(env.get("CRM_SUPPORT_SLA_FILE", config_dir / "sla.json"))
    satisfaction = SatisfactionSettings.load(
        env.get("CRM_SUPPORT_SATISFACTION_FILE", config_dir / "satisfaction.json")
    )
    self_service = SelfServiceRules.load(
        env.get("CRM_SUPPORT_SELF_SERVICE_FILE", config_dir / "self_service.json")
    )
    return SupportConfig(teams, SlaSettings(calendars, policies), satisfaction, self_service,
                         env.get("CRM_SUPPORT_CARRIER", LOCAL_CARRIER),
                         env.get("CRM_SUPPORT_PAYMENTS", LOCAL_PAYMENTS),
                         _similarity_key(env), recurring_rules(env))  # fmt: skip


RECURRING_SETTINGS = {
    "CRM_SUPPORT_RECURRING_GROUP_SIZE": ("group_size", int),
    "CRM_SUPPORT_RECURRING_WINDOW_DAYS": ("window_days", int),
    "CRM_SUPPORT_RECURRING_MIN_SIMILARITY": ("min_similarity", float),
    "CRM_SUPPORT_HUMAN_MAX_REOPEN_RATE": ("max_reopen_rate", float),
    "CRM_SUPPORT_HUMAN_MIN_CSAT": ("min_csat", float),
    "CRM_SUPPORT_HUMAN_MIN_SAMPLE": ("min_sample", int),
    "CRM_SUPPORT_HUMAN_WINDOW_DAYS": ("human_window_days", int),
}


def recurring_rules(env: Mapping[str, str]) -> RecurringRules:
    """The recurring-failure thresholds, each overridable by its variable."""
    given = {name: parse(env[var]) for var, (name, parse) in RECURRING_SETTINGS.items()
             if env.get(var)}  # fmt: skip
    return RecurringRules(**given)  # type: ignore[arg-type]


def _similarity_key(env: Mapping[str, str]) -> bytes | None:
    key = env.get("CRM_SUPPORT_SIMILARITY_KEY")
    return key.encode() if key else None


def _adapter(spec: str, pool: asyncpg.Pool) -> Any:
    """``module:factory`` called with the pool and the environment."""
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ValueError(f"an adapter is named module:factory, got {spec!r}")
    return getattr(importlib.import_module(module), name)(pool, os.environ)


def bootstrap(
    pool: asyncpg.Pool,
    *,
    config: SupportConfig | None = None,
    store: EventStore | None = None,
    clock: Callable[[], datetime] = utc_now,
    carrier: Carrier | None = None,
    payments: Payments | None = None,
) -> SupportRuntime:
    config = config or load_config()
    keys = store.keys if store is not None and store.keys else data_keys_from_environment(pool)
    store = store or EventStore(pool, SOURCE, keys=keys)
    return SupportRuntime(pool=pool, commands=CommandHandler(store, pool), store=store,
                          teams=config.teams, sla=config.sla, keys=keys, clock=clock,
                          satisfaction=config.satisfaction,
                          self_service=config.self_service,
                          carrier=carrier or _adapter(config.carrier, pool),
                          payments=payments or _adapter(config.payments, pool),
                          similarity_key=config.similarity_key or DEFAULT_SIMILARITY_KEY,
                          recurring=config.recurring,
                          )  # fmt: skip
