"""The owner's team travels on the deal's events, so read models filter by team without
asking sales: given no history, when a deal is opened, then its events name the team."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from contracts.events.sales import OpportunityAssigned, OpportunityOpened
from contracts.money import Money
from services.sales.domain.opportunity import (
    Assignment,
    AssignOpportunity,
    OpenOpportunity,
    decider,
)
from tests.unit.gwt import Spec

DEAL = UUID("8f14e45f-ceea-467f-a0e6-1b3c1d1a2b3c")
AMOUNT = Money(amount=Decimal("9000.00"), currency="BRL")
given = Spec(decider).given


def opened(**fields: object) -> OpportunityOpened:
    base: dict[str, object] = {
        "opportunity_id": DEAL, "customer_id": "c-1", "title": "Licenças", "amount": AMOUNT,
        "stage": "qualification", "probability": Decimal("10"),
    }  # fmt: skip
    return OpportunityOpened(**{**base, **fields})  # type: ignore[arg-type]


def test_a_deal_opened_with_an_owner_names_the_owners_team() -> None:
    command = OpenOpportunity(DEAL, "c-1", "Licenças", AMOUNT, "seller-sp-01", owner_team="sudeste")
    given().when(command).then(opened(owner_id="seller-sp-01", owner_team="sudeste"))


def test_a_deal_opened_by_the_rules_names_the_team_on_its_assignment() -> None:
    choice = Assignment("seller-rs-01", "territory", "sul")
    command = OpenOpportunity(DEAL, "c-1", "Licenças", AMOUNT, assignment=choice)
    given().when(command).then(
        opened(),
        OpportunityAssigned(
            opportunity_id=DEAL, customer_id="c-1", owner_id="seller-rs-01", rule="territory",
            team="sul",
        ),
    )  # fmt: skip


def test_a_team_without_an_owner_is_not_claimed_on_the_opening() -> None:
    command = OpenOpportunity(DEAL, "c-1", "Licenças", AMOUNT, owner_team="sudeste")
    given().when(command).then(opened())


def test_a_reassignment_names_the_new_owners_team() -> None:
    command = AssignOpportunity(DEAL, "seller-rs-01", "manual", team="sul")
    given(opened(owner_id="seller-sp-01", owner_team="sudeste")).when(command).then(
        OpportunityAssigned(
            opportunity_id=DEAL, customer_id="c-1", owner_id="seller-rs-01",
            previous_owner_id="seller-sp-01", rule="manual", team="sul",
        )
    )  # fmt: skip
