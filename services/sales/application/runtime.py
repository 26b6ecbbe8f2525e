"""What the sales service's entry points share: pool, command handler, configuration."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

import asyncpg

from services.platform.commands import CommandHandler
from services.platform.decider import Decider
from services.platform.eventstore import EventStore
from services.sales.adapters.proposal_pdf import ProposalTemplate, render_proposal
from services.sales.application.assignment import AssignmentRules
from services.sales.application.deals import registration
from services.sales.domain.pipeline import Pipeline
from services.sales.domain.pricing import Catalogue
from services.sales.domain.quote import Quote

S = TypeVar("S")
C = TypeVar("C")
SOURCE = "/crm/sales"


@dataclass
class SalesRuntime:
    pool: asyncpg.Pool
    commands: CommandHandler
    store: EventStore
    rules: AssignmentRules = field(default_factory=AssignmentRules.load)
    catalogue: Catalogue = field(default_factory=Catalogue.load)
    pipeline: Pipeline = field(default_factory=Pipeline.load)
    proposal_template: ProposalTemplate | None = None
    # Discounts above this percentage need an approval before the quote can be sent.
    approval_threshold_percent: Decimal = field(
        default_factory=lambda: Decimal(os.environ.get("CRM_SALES_APPROVAL_THRESHOLD", "15"))
    )

    @classmethod
    def create(cls, pool: asyncpg.Pool) -> SalesRuntime:
        store = EventStore(pool, SOURCE)
        return cls(pool=pool, commands=CommandHandler(store, pool), store=store)

    async def load(self, decider: Decider[C, S], stream_id: str) -> tuple[S, int]:
        """Current state and version of a stream (read-your-writes: the store itself)."""
        history = await self.store.read_stream(stream_id)
        version = history[-1].stream_version if history else 0
        return decider.fold(e.domain_event() for e in history), version

    async def customer_name(self, customer_id: str) -> str:
        """The name a proposal is addressed to: the account's, else the contact's."""
        data = await registration(self.pool, customer_id, ("account", "contact"))
        if data is None:
            return customer_id
        if "name" in data:
            return str(data["name"])
        return f"{data.get('first_name', '')} {data.get('last_name', '')}".strip() or customer_id

    def render_proposal(self, state: Quote, customer_name: str) -> bytes:
        return render_proposal(state, customer_name, self.proposal_template)
