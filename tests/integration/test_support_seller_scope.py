"""Sellers read their customers' cases and no one else's: the deals support learns from
the sales events decide which customers are a seller's (owner or team) and a sales
manager's (team); agents and analysts are not scoped."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from contracts.events.sales import OpportunityAssigned, OpportunityOpened
from contracts.money import Money
from services.support.entrypoints.directory_consumer import apply
from tests.integration.conftest import SupportApi
from tests.projection_helpers import consumed

pytestmark = pytest.mark.integration

AGENT = {"x-actor-id": "agent-ana", "x-actor-role": "service_agent"}
BIA = {"x-actor-id": "seller-bia", "x-actor-role": "seller", "x-actor-team": "sul"}
CAIO = {"x-actor-id": "seller-caio", "x-actor-role": "seller", "x-actor-team": "norte"}
MANAGER_SUL = {"x-actor-id": "manager-duda", "x-actor-role": "sales_manager",
               "x-actor-team": "sul"}  # fmt: skip
ANALYST = {"x-actor-id": "analyst-eva", "x-actor-role": "analyst"}
AT = datetime(2026, 11, 20, 12, tzinfo=UTC)


async def _learn(api: SupportApi, event: OpportunityOpened | OpportunityAssigned) -> None:
    async with api.runtime.pool.acquire() as conn, conn.transaction():
        await apply(api.runtime, conn, consumed(event, AT))


def _deal(customer: str, owner: str | None, team: str | None) -> OpportunityOpened:
    return OpportunityOpened(opportunity_id=uuid4(), customer_id=customer, title="Renovação",
                             amount=Money(amount=Decimal("1000.00"), currency="BRL"),
                             owner_id=owner, owner_team=team)  # fmt: skip


async def _open_case(api: SupportApi, customer: str) -> str:
    await api.know_customer(customer)
    body = {"customer_id": customer, "kind": "question", "channel": "phone",
            "subject": "Prazo", "description": "Quando chega?", "category": "general"}  # fmt: skip
    response = await api.client.post("/cases", json=body, headers=AGENT)
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


async def _listed(api: SupportApi, headers: dict[str, str]) -> set[str]:
    response = await api.client.get("/cases", headers=headers)
    assert response.status_code == 200, response.text
    return {item["customer_id"] for item in response.json()["items"]}


async def test_a_seller_reads_the_cases_of_customers_whose_deals_are_theirs_or_their_teams(
    support: SupportApi,
) -> None:
    await _learn(support, _deal("cust-own", "seller-bia", "norte"))  # Bia's own deal
    await _learn(support, _deal("cust-team", "seller-fabio", "sul"))  # her team's
    await _learn(support, _deal("cust-other", "seller-caio", "norte"))  # neither
    cases = {c: await _open_case(support, c) for c in ("cust-own", "cust-team", "cust-other",
                                                       "cust-no-deal")}  # fmt: skip

    assert await _listed(support, BIA) == {"cust-own", "cust-team"}
    assert await _listed(support, CAIO) == {"cust-own", "cust-other"}
    assert await _listed(support, MANAGER_SUL) == {"cust-team"}
    everyone = {"cust-own", "cust-team", "cust-other", "cust-no-deal"}
    assert await _listed(support, AGENT) == everyone
    assert await _listed(support, ANALYST) == everyone

    readable = await support.client.get(f"/cases/{cases['cust-team']}", headers=BIA)
    assert readable.status_code == 200, readable.text
    for customer in ("cust-other", "cust-no-deal"):
        refused = await support.client.get(f"/cases/{cases[customer]}", headers=BIA)
        assert refused.status_code == 403, refused.text
        assert "seller" in refused.json()["detail"]


async def test_a_reassigned_deal_moves_its_customers_cases_to_the_new_owner(
    support: SupportApi,
) -> None:
    deal = _deal("cust-moved", "seller-caio", "norte")
    await _learn(support, deal)
    case_id = await _open_case(support, "cust-moved")
    assert await _listed(support, BIA) == set()

    reassigned = OpportunityAssigned(opportunity_id=deal.opportunity_id, customer_id="cust-moved",
                                     owner_id="seller-bia", previous_owner_id="seller-caio",
                                     rule="manual", team="sul")  # fmt: skip
    await _learn(support, reassigned)
    await _learn(support, reassigned)  # redelivered: the same owner, nothing doubled

    assert await _listed(support, BIA) == {"cust-moved"}
    assert await _listed(support, CAIO) == set()
    assert (await support.client.get(f"/cases/{case_id}", headers=CAIO)).status_code == 403
    rows = await support.runtime.pool.fetch(
        "SELECT owner_id, owner_team FROM customer_deals WHERE opportunity_id = $1",
        UUID(str(deal.opportunity_id)),
    )
    assert [tuple(r) for r in rows] == [("seller-bia", "sul")]
