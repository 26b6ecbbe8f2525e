"""What the sales service's entry points share: pool, command handler, configuration.

Built by ``services.sales.bootstrap`` (the one place that reads settings and files)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

import asyncpg

from services.platform.commands import CommandHandler
from services.platform.decider import Decider
from services.platform.eventstore import EventStore
from services.sales.adapters.proposal_pdf import ProposalTemplate, render_proposal
from services.sales.application.assignment import AssignmentRules
from services.sales.application.deals import registration
from services.sales.application.ports import SalesRecords
from services.sales.domain.pipeline import Pipeline
from services.sales.domain.pricing import Catalogue
from services.sales.domain.quote import Quote

S = TypeVar("S")
C = TypeVar("C")
SOURCE = "/crm/sales"


@dataclass
class SalesRuntime:
    pool: asyncpg.Pool | None
    """None for a runtime in memory (``bootstrap_in_memory``)."""
    commands: CommandHandler
    store: EventStore
    records: SalesRecords
    rules: AssignmentRules
    catalogue: Catalogue
    pipeline: Pipeline
    approval_threshold_percent: Decimal
    """Discounts above this percentage need an approval before the quote can be sent."""
    proposal_template: ProposalTemplate | None = None

    @classmethod
    def create(cls, pool: asyncpg.Pool) -> SalesRuntime:
        """``bootstrap(pool)``: the runtime as the environment and config files say."""
        from services.sales.bootstrap import bootstrap  # the composition root imports us

        return bootstrap(pool)

    async def load(self, decider: Decider[C, S], stream_id: str) -> tuple[S, int]:
        """Current state and version of a stream (read-your-writes: the store itself)."""
        history = await self.store.read_stream(stream_id)
        version = history[-1].stream_version if history else 0
        return decider.fold(e.domain_event() for e in history), version

    async def customer_name(self, customer_id: str) -> str:
        """The name a proposal is addressed to: the account's, else the contact's."""
        data = await registration(self.records, None, customer_id, ("account", "contact"))
        if data is None:
            return customer_id
        if "name" in data:
            return str(data["name"])
        return f"{data.get('first_name', '')} {data.get('last_name', '')}".strip() or customer_id

    def render_proposal(self, state: Quote, customer_name: str) -> bytes:
        return render_proposal(state, customer_name, self.proposal_template)
