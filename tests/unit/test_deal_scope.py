"""Record-level reads: who sees which deal, and a 360 view without the hidden ones.

The rule (README, "Roles"; issue 10): roles that are not scoped see every deal; a seller
sees the deals they own and their team's; a sales manager their team's; a deal of no
known team is hidden from the scoped roles.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson
import pytest

from contracts.events.sales import (
    AccountRegistered,
    ActivityLogged,
    DealStageChanged,
    OpportunityAssigned,
    OpportunityLost,
    OpportunityOpened,
    OrderLine,
    OrderPlaced,
    RelatedTo,
)
from contracts.money import Money
from projections.customer360.profile import fold
from projections.timeline.projector import DealOwners, entry_row
from services.gateway.auth import Principal
from services.gateway.scope import DealScope
from tests.projection_helpers import consumed

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CUSTOMER = "customer-scope-1"
HIDDEN = uuid.UUID(int=1)
SHOWN = uuid.UUID(int=2)


def who(role: str, subject: str = "seller-rs-01", team: str | None = "sul") -> DealScope:
    return DealScope(Principal(subject, role, team, "client", None, (), None))


@pytest.mark.parametrize(
    ("scope", "owner", "team", "sees"),
    [
        (who("seller", "seller-sp-01", "sudeste"), "seller-sp-01", None, True),  # own
        (who("seller", "seller-sp-02", "sudeste"), "seller-sp-01", "sudeste", True),  # team's
        (who("seller"), "seller-sp-01", "sudeste", False),  # another team's
        (who("seller"), "seller-sp-01", None, False),  # nobody knows its team
        (who("seller", team=None), "seller-sp-01", None, False),  # no team claimed
        (who("sales_manager", "manager-sul"), "seller-rs-01", "sul", True),
        (who("sales_manager", "manager-sul"), "seller-sp-01", "sudeste", False),
        (who("sales_manager", "manager-sul"), "manager-sul", None, False),  # owns, no team
        (who("service_agent", "agent-1", None), "seller-sp-01", "sudeste", True),
        (who("analyst", "ana", None), None, None, True),
        (who("admin", "root", None), "seller-sp-01", None, True),
    ],
)  # fmt: skip
def test_who_sees_a_deal(scope: DealScope, owner: str | None, team: str | None, sees: bool) -> None:
    assert scope.may_see(owner, team) is sees


def events() -> list[tuple[object, datetime]]:
    brl = Money(amount=Decimal("9000.00"), currency="BRL")
    return [
        (AccountRegistered(account_id=uuid.UUID(int=9), customer_id=CUSTOMER,
                           name="Padaria Sol"), T0),
        (OpportunityOpened(opportunity_id=SHOWN, customer_id=CUSTOMER, title="Forno visível",
                           amount=Money(amount=Decimal("10.00"), currency="BRL"),
                           owner_id="seller-rs-01", owner_team="sul"), T0 + timedelta(1)),
        (OpportunityOpened(opportunity_id=HIDDEN, customer_id=CUSTOMER,
                           title="Balcão secreto", amount=brl, owner_id="seller-sp-01",
                           owner_team="sudeste"), T0 + timedelta(2)),
        (OrderPlaced(order_id=uuid.UUID(int=5), customer_id=CUSTOMER, opportunity_id=HIDDEN,
                     lines=[OrderLine(product_id="BALCAO", quantity=Decimal(1), line_total=brl)],
                     total=brl, channel="direct"), T0 + timedelta(3)),
        (ActivityLogged(activity_id=uuid.UUID(int=6), customer_id=CUSTOMER, kind="call",
                        subject="Ligação sobre o Balcão secreto",
                        happened_at=T0 + timedelta(4),
                        related=RelatedTo(opportunity_id=HIDDEN)), T0 + timedelta(4)),
        (OpportunityLost(opportunity_id=HIDDEN, customer_id=CUSTOMER, reason="no_budget",
                         details="Sem verba"),
         T0 + timedelta(5)),
    ]  # fmt: skip


def test_a_360_view_without_a_hidden_deal_shows_nothing_of_it_in_any_field() -> None:
    profile = fold(events())  # type: ignore[arg-type]
    assert profile is not None
    full = profile.model_dump(mode="json")
    assert str(HIDDEN) in orjson.dumps(full).decode()  # the full view has it ...
    seen = who("seller").profile(full)
    text = orjson.dumps(seen).decode()
    for secret in (str(HIDDEN), "secreto", "9000", "9,000", "00000000-0000-0000-0000-000000000005"):
        assert secret not in text, secret  # ... the seller of another team nothing of it
    assert list(seen["open_opportunities"]) == [str(SHOWN)]
    assert seen["last_interaction_summary"].startswith("Opportunity opened: Forno")
    assert seen["lifetime_value"] == {} and seen["last_lost_at"] is None
    assert seen["lifecycle"] == "new_customer"
    assert who("analyst", "ana", None).profile(full) == full


def test_later_entries_of_a_deal_carry_its_latest_owner_and_team() -> None:
    stream = [
        consumed(OpportunityOpened(opportunity_id=HIDDEN, customer_id=CUSTOMER, title="t",
                                   amount=Money(amount=Decimal(1), currency="BRL"),
                                   owner_id="seller-sp-01", owner_team="sudeste"), T0),
        consumed(OpportunityAssigned(opportunity_id=HIDDEN, customer_id=CUSTOMER,
                                     owner_id="seller-rs-01", rule="manual", team="sul"), T0),
        consumed(DealStageChanged(opportunity_id=HIDDEN, customer_id=CUSTOMER,
                                  from_stage="qualification", to_stage="proposal_sent"), T0),
    ]  # fmt: skip
    owners = DealOwners({})
    stored = [owners.stored(c, row) for c in stream if (row := entry_row(c)) is not None]
    assert [row[-2:] for row in stored] == [
        ("seller-sp-01", "sudeste"), ("seller-rs-01", "sul"), ("seller-rs-01", "sul"),
    ]  # fmt: skip
    assert owners.changed == {str(HIDDEN)}
