"""Leads through the handlers on the in-memory store: the assignment rules choose an owner,
and a qualified lead converts into account + contact + opportunity in one unit of work."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from contracts.events.sales import Address
from contracts.money import Money
from services.platform.decider import DomainError
from services.sales.application.commands import ChangeLead, ConvertLead, DealDraft
from services.sales.domain import contact, lead
from tests.unit.sales.sales_spec import SalesSpec

SP = Address(city="São Paulo", state="SP", country="BR")
DRAFT = DealDraft("Licenças CRM", Money(amount=Decimal("30000.00"), currency="BRL"))


def capture(**fields: object) -> lead.CaptureLead:
    base: dict[str, object] = {
        "lead_id": uuid4(), "source": "web_form", "name": "José da Silva",
        "company": "Padaria São Jorge Ltda.", "emails": ("jose@padaria.com.br",), "address": SP,
    }  # fmt: skip
    return lead.CaptureLead(**{**base, **fields})  # type: ignore[arg-type]


async def test_leads_without_owner_go_round_robin_through_the_territorys_team() -> None:
    sales = SalesSpec()
    owners = [a["owner_id"] for a in await sales.given(*(capture() for _ in range(4)))]
    # config/assignment.json: SP belongs to "sudeste", sellers in this order.
    assert owners == ["seller-sp-01", "seller-sp-02", "seller-rj-01", "seller-sp-01"]


async def test_a_lead_outside_every_territory_goes_to_the_default_team() -> None:
    sales = SalesSpec()
    answer = await sales.when(capture(address=Address(city="Lima", country="PE")))
    assert answer["owner_id"] == "seller-inside-01"


async def test_a_qualified_lead_converts_into_account_contact_and_deal_at_once() -> None:
    sales = SalesSpec()
    captured = capture(owner_id="seller-sp-02")
    await sales.given(captured, ChangeLead(lead.QualifyLead(captured.lead_id, "sdr-1")))
    answer = await sales.when(ConvertLead(captured.lead_id, DRAFT))
    assert await sales.then_types() == [
        "crm.sales.account_registered",
        "crm.sales.contact_registered",
        "crm.sales.opportunity_opened",
        "crm.sales.lead_converted",
    ]
    opened = (await sales.then())[2].payload
    assert (opened["owner_id"], opened["owner_team"]) == ("seller-sp-02", "sudeste")
    assert answer["customer_id"] == answer["account_id"]


async def test_a_lead_that_is_already_a_contact_converts_into_that_contact() -> None:
    sales = SalesSpec()
    captured = capture(company=None)
    [known, *_] = await sales.given(
        contact.RegisterContact(uuid4(), "José", emails=("jose@padaria.com.br",)),
        captured,
        ChangeLead(lead.QualifyLead(captured.lead_id)),
    )
    answer = await sales.when(ConvertLead(captured.lead_id))
    assert answer["contact_id"] == known["id"]
    assert await sales.then_types() == ["crm.sales.lead_converted"]


async def test_a_lead_not_qualified_converts_into_nothing() -> None:
    sales = SalesSpec()
    captured = capture()
    await sales.given(captured)
    with pytest.raises(DomainError):
        await sales.when(ConvertLead(captured.lead_id, DRAFT))
    assert await sales.then() == []
    state, _ = await sales.runtime.load(lead.decider, lead.stream_id(captured.lead_id))
    assert state.status == "captured"
