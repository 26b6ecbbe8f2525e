"""Deals through the handlers on the in-memory store: who owns a new deal, and the team
rule (a seller works on their own deals and their team's; a manager on their team's)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from contracts.money import Money
from services.platform.decider import DomainError
from services.sales.application.commands import (
    ChangeDeal,
    IssueQuote,
    OpenDeal,
    QuoteLine,
    ReassignDeal,
)
from services.sales.domain import opportunity as opp
from tests.unit.sales.sales_spec import MANAGER_SUL, SELLER_RS, SELLER_SP, SalesSpec

AMOUNT = Money(amount=Decimal("9000.00"), currency="BRL")


def open_deal(**fields: object) -> OpenDeal:
    base: dict[str, object] = {
        "opportunity_id": uuid4(), "customer_id": "c-1", "title": "Frota", "amount": AMOUNT,
    }  # fmt: skip
    return OpenDeal(**{**base, **fields})  # type: ignore[arg-type]


def stage(deal: dict[str, object], to: str, actor: object) -> ChangeDeal:
    change = opp.ChangeDealStage(UUID(str(deal["id"])), to)  # type: ignore[arg-type]
    return ChangeDeal(change, actor=actor)  # type: ignore[arg-type]


async def test_a_sellers_new_deal_is_their_own_whatever_they_ask() -> None:
    sales = SalesSpec()
    with pytest.raises(DomainError) as refused:
        await sales.when(open_deal(owner_id="seller-rj-01", actor=SELLER_SP))
    assert refused.value.code == "forbidden-team"
    answer = await sales.when(open_deal(actor=SELLER_SP))
    assert answer["owner_id"] == "seller-sp-01"
    assert [e.payload.get("owner_team") for e in await sales.then()] == ["sudeste"]


async def test_a_managers_deal_without_owner_goes_round_robin_in_their_team() -> None:
    sales = SalesSpec()
    owners = [
        a["owner_id"] for a in await sales.given(*(open_deal(actor=MANAGER_SUL) for _ in range(3)))
    ]
    assert owners == ["seller-rs-01", "seller-pr-01", "seller-rs-01"]  # team "sul"


async def test_a_seller_of_another_team_may_not_move_the_deal_and_nothing_is_written() -> None:
    sales = SalesSpec()
    [deal] = await sales.given(open_deal(owner_id="seller-sp-02"))
    with pytest.raises(DomainError) as refused:
        await sales.when(stage(deal, "quote_requested", SELLER_RS))
    assert refused.value.code == "forbidden-team"
    assert await sales.then() == []


async def test_a_seller_of_the_owners_team_may_move_the_deal() -> None:
    sales = SalesSpec()
    [deal] = await sales.given(open_deal(owner_id="seller-sp-02"))
    await sales.when(stage(deal, "quote_requested", SELLER_SP))
    assert await sales.then_types() == ["crm.sales.deal_stage_changed"]


def quote_on(deal: dict[str, object], actor: object) -> IssueQuote:
    items = (QuoteLine("CRM-SEAT", Decimal(10)),)
    deal_id = UUID(str(deal["id"]))
    return IssueQuote(uuid4(), "c-1", "BRL-standard", items, deal_id, actor=actor)  # type: ignore[arg-type]


async def test_a_quote_on_another_teams_deal_is_refused() -> None:
    sales = SalesSpec()
    [deal] = await sales.given(open_deal(owner_id="seller-sp-02"))
    with pytest.raises(DomainError) as refused:
        await sales.when(quote_on(deal, SELLER_RS))
    assert refused.value.code == "forbidden-team"
    assert await sales.then() == []


async def test_a_quote_on_the_teams_own_deal_is_issued() -> None:
    sales = SalesSpec()
    [deal] = await sales.given(open_deal(owner_id="seller-sp-02"))
    await sales.when(quote_on(deal, SELLER_SP))
    assert await sales.then_types() == ["crm.sales.quote_issued"]


async def test_a_reassignment_names_the_new_owners_team() -> None:
    sales = SalesSpec()
    [deal] = await sales.given(open_deal(owner_id="seller-sp-02"))
    await sales.when(ReassignDeal(UUID(deal["id"]), "seller-rs-01"))
    [assigned] = await sales.then()
    assert (assigned.payload["owner_id"], assigned.payload["team"]) == ("seller-rs-01", "sul")


async def test_a_manager_may_not_hand_a_deal_to_another_team() -> None:
    sales = SalesSpec()
    [deal] = await sales.given(open_deal(owner_id="seller-rs-01"))
    with pytest.raises(DomainError) as refused:
        await sales.when(ReassignDeal(UUID(deal["id"]), "seller-sp-01", actor=MANAGER_SUL))
    assert refused.value.code == "forbidden-team"
    assert await sales.then() == []


async def test_a_repeated_idempotency_key_answers_the_first_result_and_appends_nothing() -> None:
    sales = SalesSpec()
    command = open_deal(owner_id="seller-sp-02")
    first = await sales.when(command, idempotency_key="k-1")
    again = await sales.when(open_deal(owner_id="seller-sp-02"), idempotency_key="k-1")
    assert (again["id"], list(again["event_ids"])) == (first["id"], list(first["event_ids"]))
    assert await sales.then() == []
