"""Given/when/then specs of the opportunity decider: given past events, when a command,
then the new events (or the business rule it breaks). Pure: no store, no broker."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from contracts.events.sales import (
    DealStageChanged,
    OpportunityAssigned,
    OpportunityLost,
    OpportunityOpened,
    OpportunityReopened,
    OpportunityWon,
)
from contracts.money import Money
from contracts.registry import DomainEvent
from services.platform.decider import DomainError
from services.sales.domain.opportunity import (
    Assignment,
    AssignOpportunity,
    ChangeDealStage,
    OpenOpportunity,
    Opportunity,
    ReopenOpportunity,
    decide,
    decider,
)
from services.sales.domain.pipeline import DEFAULT_PIPELINE, Pipeline
from tests.unit.gwt import Spec

OPP_ID = UUID("6f1c2b9e-3a4d-4e5f-9a8b-7c6d5e4f3a21")
CUSTOMER = "cust-br-00042"
AMOUNT = Money(amount=Decimal("48500.00"), currency="BRL")


given = Spec(decider).given


def opened(stage: str = "qualification", customer_id: str = CUSTOMER) -> OpportunityOpened:
    return OpportunityOpened(
        opportunity_id=OPP_ID,
        customer_id=customer_id,
        title="Licenças ERP — Padaria São Jorge Ltda.",
        amount=AMOUNT,
        stage=stage,
    )


def moved(from_stage: str, to_stage: str, reason: str | None = None) -> DealStageChanged:
    return DealStageChanged(
        opportunity_id=OPP_ID,
        customer_id=CUSTOMER,
        from_stage=from_stage,
        to_stage=to_stage,
        reason=reason,
        probability=DEFAULT_PIPELINE.probability(to_stage),
    )


def open_command(amount: Money = AMOUNT, **overrides: object) -> OpenOpportunity:
    fields: dict[str, object] = {
        "opportunity_id": OPP_ID,
        "customer_id": CUSTOMER,
        "title": "Licenças ERP — Padaria São Jorge Ltda.",
        "amount": amount,
    }
    fields.update(overrides)
    return OpenOpportunity(**fields)  # type: ignore[arg-type]


# --- opening -------------------------------------------------------------------------


def test_opening_a_new_opportunity_emits_opportunity_opened_in_qualification() -> None:
    given().when(open_command(owner_id="seller-7")).then(
        OpportunityOpened(
            opportunity_id=OPP_ID,
            customer_id=CUSTOMER,
            title="Licenças ERP — Padaria São Jorge Ltda.",
            amount=AMOUNT,
            stage="qualification",
            owner_id="seller-7",
            probability=Decimal("10"),
        )
    )


def test_opening_an_existing_opportunity_is_refused_as_already_existing() -> None:
    given(opened()).when(open_command()).then_raises(DomainError, code="already-exists")


def test_a_negative_amount_is_refused_on_the_amount_field() -> None:
    negative = Money(amount=Decimal("-0.01"), currency="ARS")
    given().when(open_command(amount=negative)).then_raises(DomainError, field="amount.amount")


def test_a_zero_amount_is_allowed() -> None:
    zero = Money(amount=Decimal("0"), currency="ARS")
    given().when(open_command(amount=zero)).then(
        OpportunityOpened(
            opportunity_id=OPP_ID,
            customer_id=CUSTOMER,
            title="Licenças ERP — Padaria São Jorge Ltda.",
            amount=zero,
            probability=Decimal("10"),
        )
    )


# --- changing stage ------------------------------------------------------------------


def test_stage_change_emits_deal_stage_changed_with_from_to_and_customer_from_state() -> None:
    # The command carries no customer: the event's customer must come from history.
    other_customer = "cust-ar-20-12345678-6"
    given(opened(customer_id=other_customer), moved("qualification", "quote_requested")).when(
        ChangeDealStage(OPP_ID, "proposal_sent")
    ).then(
        DealStageChanged(
            opportunity_id=OPP_ID,
            customer_id=other_customer,
            from_stage="quote_requested",
            to_stage="proposal_sent",
            probability=Decimal("50"),
        )
    )


def test_changing_the_stage_of_a_non_existent_opportunity_is_not_found() -> None:
    given().when(ChangeDealStage(uuid4(), "proposal_sent")).then_raises(
        DomainError, code="not-found"
    )


def test_moving_to_the_current_stage_emits_nothing() -> None:
    given(opened(), moved("qualification", "proposal_sent")).when(
        ChangeDealStage(OPP_ID, "proposal_sent")
    ).then()


@pytest.mark.parametrize("closed", ["won", "lost"])
@pytest.mark.parametrize("target", ["qualification", "renegotiation", "won", "lost"])
def test_no_move_out_of_a_closed_deal(closed: str, target: str) -> None:
    history = [opened(), moved("qualification", closed, reason="cliente escolheu concorrente")]
    given(*history).when(ChangeDealStage(OPP_ID, target, reason="tentativa")).then_raises(
        DomainError, field="to_stage"
    )


@pytest.mark.parametrize("reason", [None, "", "   ", "\t\n"])
def test_losing_a_deal_needs_a_non_blank_reason(reason: str | None) -> None:
    given(opened()).when(
        ChangeDealStage(OPP_ID, "lost", reason=reason, lost_reason="price")
    ).then_raises(DomainError, field="reason")


def test_losing_a_deal_needs_a_reason_from_the_catalogue() -> None:
    given(opened()).when(ChangeDealStage(OPP_ID, "lost", reason="caro")).then_raises(
        DomainError, field="lost_reason"
    )


def test_losing_a_deal_with_a_reason_records_it_for_lost_order_analysis() -> None:
    given(opened()).when(
        ChangeDealStage(
            OPP_ID, "lost", reason=" Preço acima do orçamento ", lost_reason="price",
            competitor="Concorrente SA",
        )
    ).then(
        moved("qualification", "lost", reason=" Preço acima do orçamento "),
        OpportunityLost(
            opportunity_id=OPP_ID, customer_id=CUSTOMER, reason="price",
            details="Preço acima do orçamento", competitor="Concorrente SA",
        ),
    )  # fmt: skip


def test_winning_needs_no_reason_and_records_the_amount_won() -> None:
    given(opened(), moved("qualification", "proposal_sent")).when(
        ChangeDealStage(OPP_ID, "won")
    ).then(
        moved("proposal_sent", "won"),
        OpportunityWon(opportunity_id=OPP_ID, customer_id=CUSTOMER, amount=AMOUNT),
    )


# --- evolve --------------------------------------------------------------------------


def test_initial_state_is_a_non_existent_opportunity() -> None:
    assert decider.fold([]) == Opportunity(exists=False)


def test_evolve_folds_the_stage_through_every_change() -> None:
    state = decider.fold(
        [
            opened(),
            moved("qualification", "quote_requested"),
            moved("quote_requested", "proposal_sent"),
            moved("proposal_sent", "renegotiation"),
        ]
    )
    assert state == Opportunity(
        exists=True,
        customer_id=CUSTOMER,
        title="Licenças ERP — Padaria São Jorge Ltda.",
        stage="renegotiation",
        amount=AMOUNT,
    )


def test_evolve_takes_the_opening_stage_from_the_event() -> None:
    assert decider.fold([opened(stage="proposal_sent")]).stage == "proposal_sent"


def test_evolve_ignores_events_it_does_not_know() -> None:
    class SomethingElse(DomainEvent):
        context = "sales"
        event_type = "crm.sales.something_else_for_test"

    before = decider.fold([opened()])
    assert decider.evolve(before, SomethingElse()) == before


# --- reopening, assignment, pipeline ---------------------------------------------------


def test_a_closed_deal_reopens_only_explicitly_and_into_an_open_stage() -> None:
    lost = [opened(), moved("qualification", "lost", reason="sem verba")]
    given(*lost).when(ReopenOpportunity(OPP_ID, "renegotiation", reason="nova verba")).then(
        OpportunityReopened(
            opportunity_id=OPP_ID, customer_id=CUSTOMER, to_stage="renegotiation",
            reason="nova verba",
        )
    )  # fmt: skip
    given(*lost).when(ReopenOpportunity(OPP_ID, "won")).then_raises(field="to_stage")
    given(opened()).when(ReopenOpportunity(OPP_ID, "proposal_sent")).then_raises(code="not-closed")
    back = OpportunityReopened(
        opportunity_id=OPP_ID, customer_id=CUSTOMER, to_stage="renegotiation"
    )
    reopened = decider.fold([*lost, back])
    assert reopened.stage == "renegotiation"


def test_assignment_records_previous_owner_and_rule_and_ignores_a_no_op() -> None:
    given(opened()).when(AssignOpportunity(OPP_ID, "seller-2", rule="manual")).then(
        OpportunityAssigned(
            opportunity_id=OPP_ID, customer_id=CUSTOMER, owner_id="seller-2",
            previous_owner_id=None, rule="manual",
        )
    )  # fmt: skip
    assigned = OpportunityAssigned(
        opportunity_id=OPP_ID, customer_id=CUSTOMER, owner_id="seller-2", rule="round_robin"
    )
    given(opened(), assigned).when(AssignOpportunity(OPP_ID, "seller-2")).then()
    given(opened()).when(AssignOpportunity(OPP_ID, " ")).then_raises(field="owner_id")


def test_opening_without_owner_applies_the_assignment_rules_choice() -> None:
    choice = Assignment(owner_id="seller-9", rule="territory", team="sul")
    events = decide(open_command(assignment=choice), Opportunity())
    assert events[1] == OpportunityAssigned(
        opportunity_id=OPP_ID, customer_id=CUSTOMER, owner_id="seller-9", rule="territory",
        team="sul",
    )  # fmt: skip
    # An explicit owner wins over the rules.
    assert len(decide(open_command(owner_id="me", assignment=choice), Opportunity())) == 1


def test_a_pipeline_without_a_stage_refuses_moves_into_it_and_sets_probabilities() -> None:
    short = Pipeline({"qualification": Decimal("20"), "won": Decimal("100"), "lost": Decimal("0")})
    given(opened()).when(ChangeDealStage(OPP_ID, "proposal_sent", pipeline=short)).then_raises(
        field="to_stage"
    )
    events = decide(open_command(pipeline=short), Opportunity())
    assert events[0].probability == Decimal("20")
