"""The support service's composition root: settings, config files and the environment
are read here, once; everything else receives them.

    runtime = bootstrap(pool)                         # __main__
    runtime = bootstrap(pool, clock=lambda: moment)   # a test's override
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import asyncpg

from services.platform.commands import CommandHandler
from services.platform.eventstore import EventStore
from services.platform.privacy.data_keys import data_keys_from_environment
from services.support.application.runtime import SOURCE, SupportRuntime, utc_now
from services.support.application.sla_settings import SlaSettings
from services.support.domain.satisfaction_config import SatisfactionSettings
from services.support.domain.sla_config import load_sla_config
from services.support.domain.teams import TeamRules

CONFIG_DIR = Path(__file__).with_name("config")


@dataclass(frozen=True)
class SupportConfig:
    teams: TeamRules
    sla: SlaSettings
    satisfaction: SatisfactionSettings = field(default_factory=SatisfactionSettings)


def load_config(env: Mapping[str, str] | None = None, config_dir: Path = CONFIG_DIR
                ) -> SupportConfig:  # fmt: skip
    env = os.environ if env is None else env
    teams = TeamRules.load(Path(env.get("CRM_SUPPORT_TEAMS_FILE", config_dir / "teams.json")))
    calendars, policies = load_sla_config(env.get("CRM_SUPPORT_SLA_FILE", config_dir / "sla.json"))
    satisfaction = SatisfactionSettings.load(
        env.get("CRM_SUPPORT_SATISFACTION_FILE", config_dir / "satisfaction.json")
    )
    return SupportConfig(teams, SlaSettings(calendars, policies), satisfaction)


def bootstrap(
    pool: asyncpg.Pool,
    *,
    config: SupportConfig | None = None,
    store: EventStore | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> SupportRuntime:
    config = config or load_config()
    keys = store.keys if store is not None and store.keys else data_keys_from_environment(pool)
    store = store or EventStore(pool, SOURCE, keys=keys)
    return SupportRuntime(pool=pool, commands=CommandHandler(store, pool), store=store,
                          teams=config.teams, sla=config.sla, keys=keys, clock=clock,
                          satisfaction=config.satisfaction)  # fmt: skip
