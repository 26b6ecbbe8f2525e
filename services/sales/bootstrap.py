"""The sales service's composition root: settings, config files and the environment are
read here, once, and nowhere else; everything else receives them.

    runtime = bootstrap(pool)                                  # __main__
    runtime = bootstrap(pool, approval_threshold_percent=Decimal(5))   # a test's override

``SalesRuntime.create(pool)`` is ``bootstrap(pool)``, kept for existing callers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import asyncpg

from services.platform.commands import CommandHandler
from services.platform.eventstore import EventStore
from services.platform.memory_eventstore import InMemoryCommands, InMemoryEventStore
from services.platform.privacy.data_keys import data_keys_from_environment
from services.sales.adapters.memory import InMemorySalesRecords
from services.sales.adapters.postgres import PostgresSalesRecords
from services.sales.adapters.proposal_pdf import ProposalTemplate
from services.sales.application.assignment import AssignmentRules
from services.sales.application.runtime import SOURCE, SalesRuntime
from services.sales.domain.pipeline import Pipeline
from services.sales.domain.pricing import Catalogue

CONFIG_DIR = Path(__file__).with_name("config")


@dataclass(frozen=True)
class SalesConfig:
    """What the environment and the config files say, read once."""

    approval_threshold_percent: Decimal
    """Discounts above this percentage need an approval before the quote can be sent
    (``CRM_SALES_APPROVAL_THRESHOLD``)."""
    rules: AssignmentRules
    catalogue: Catalogue
    pipeline: Pipeline
    proposal_template: ProposalTemplate | None = None
    """None: the built-in labels of ``adapters.proposal_pdf``."""


def load_config(env: Mapping[str, str] | None = None, config_dir: Path = CONFIG_DIR) -> SalesConfig:
    env = os.environ if env is None else env
    return SalesConfig(
        approval_threshold_percent=Decimal(env.get("CRM_SALES_APPROVAL_THRESHOLD", "15")),
        rules=AssignmentRules.load(config_dir / "assignment.json"),
        catalogue=Catalogue.load(config_dir / "catalogue.json"),
        pipeline=Pipeline.load(config_dir / "pipeline.json"),
    )


def bootstrap(
    pool: asyncpg.Pool,
    *,
    config: SalesConfig | None = None,
    store: EventStore | None = None,
    **overrides: Any,
) -> SalesRuntime:
    """The runtime of the sales service on ``pool``; ``overrides`` replace fields of the
    config (``rules=...``, ``catalogue=...``, ``approval_threshold_percent=...``)."""
    config = replace(config or load_config(), **overrides)
    store = store or EventStore(pool, SOURCE, keys=data_keys_from_environment(pool))
    given = {f.name: getattr(config, f.name) for f in fields(config)}
    records = PostgresSalesRecords(pool, store.keys)
    commands = CommandHandler(store, pool)
    return SalesRuntime(pool=pool, commands=commands, store=store, records=records, **given)


def bootstrap_in_memory(*, config: SalesConfig | None = None, **overrides: Any) -> SalesRuntime:
    """The same runtime on the in-memory event store and records: for fast tests of the
    handlers (no pool; the scheduler and the relay need PostgreSQL)."""
    config = replace(config or load_config(), **overrides)
    memory = InMemoryEventStore(SOURCE)
    records = InMemorySalesRecords(memory)
    given = {f.name: getattr(config, f.name) for f in fields(config)}
    # The runtime types the PostgreSQL store and handler; these have their surfaces.
    return SalesRuntime(
        pool=None,
        commands=cast(CommandHandler, InMemoryCommands(memory, records)),
        store=cast(EventStore, memory),
        records=records,
        **given,
    )
