"""Given/when/then for the sales handlers, on the in-memory event store and records:
given earlier commands, when one more, then the events it appended (or the rule it broke).

    sales = SalesSpec()
    await sales.given(capture_command, qualify_command)
    answer = await sales.when(ConvertLead(lead_id))
    assert sales.then_types() == ["crm.sales.account_registered", ...]
"""

from __future__ import annotations

from typing import Any

from services.platform.eventstore import RecordedEvent
from services.sales.application.access import Actor
from services.sales.application.runner import run_command
from services.sales.bootstrap import bootstrap_in_memory


class SalesSpec:
    def __init__(self, **overrides: Any) -> None:
        self.runtime = bootstrap_in_memory(**overrides)
        self._mark = 0

    async def _all(self) -> list[RecordedEvent]:
        return list(await self.runtime.store.read_all(limit=1_000_000))

    async def given(self, *commands: Any) -> list[dict[str, Any]]:
        answers = [(await run_command(self.runtime, c))[0] for c in commands]
        self._mark = len(await self._all())
        return answers

    async def when(self, command: Any, **options: Any) -> dict[str, Any]:
        self._mark = len(await self._all())
        data, _ = await run_command(self.runtime, command, **options)
        return data

    async def then(self) -> list[RecordedEvent]:
        """The events the ``when`` appended."""
        return (await self._all())[self._mark :]

    async def then_types(self) -> list[str]:
        return [e.event_type for e in await self.then()]


SELLER_SP = Actor("seller-sp-01", "seller", "sudeste")
SELLER_RS = Actor("seller-rs-01", "seller", "sul")
MANAGER_SUL = Actor("manager-sul", "sales_manager", "sul")
