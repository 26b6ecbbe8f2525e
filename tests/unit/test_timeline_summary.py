"""Timeline entries read well: a specific English line for every sales and support event,
and the channel, actor and links each entry carries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from contracts import registered_types
from contracts.events.sales import (
    ActivityLogged,
    DealStageChanged,
    FollowUpScheduled,
    OpportunityAssigned,
    OpportunityLost,
    OrderPlaced,
    PurchaseMade,
    RecordsMerged,
)
from contracts.events.support import ComplaintFiled
from contracts.money import Money
from contracts.registry import DomainEvent, is_sealed_version, parse_data
from projections.timeline.projector import (
    actor_of,
    channel_of,
    links_of,
    origin_of,
    summarize,
)
from services.platform.privacy.codec import open_data
from tests.example_keys import EXAMPLE_DATA_KEY

EXAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "examples"
TIMELINE_CONTEXTS = ("sales", "support")


def _examples() -> list[tuple[str, int, dict[str, Any]]]:
    found = []
    for (event_type, version), cls in sorted(registered_types().items()):
        if cls.context not in TIMELINE_CONTEXTS:
            continue
        for n, data in enumerate(
            orjson.loads((EXAMPLES / f"{event_type}.v{version}.json").read_bytes())
        ):
            if is_sealed_version(event_type, version):  # opened as every reader opens it
                data = open_data(event_type, data, {data["personal"]["subject"]: EXAMPLE_DATA_KEY})
            found.append(pytest.param(event_type, version, data, id=f"{event_type}-{n}"))
    return found


def _generic(event_type: str) -> str:
    return event_type.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def test_examples_cover_every_sales_and_support_type() -> None:
    covered = {(p.values[0], p.values[1]) for p in _examples()}
    wanted = {k for k, cls in registered_types().items() if cls.context in TIMELINE_CONTEXTS}
    assert covered == wanted and len(wanted) >= 25


@pytest.mark.parametrize(("event_type", "version", "data"), _examples())
def test_every_event_type_has_a_specific_summary(
    event_type: str, version: int, data: dict[str, Any]
) -> None:
    event = parse_data(event_type, version, data)
    summary = summarize(event)
    assert summary != _generic(event_type), f"{event_type} falls back to the generic line"
    assert summary and summary[0].isupper()
    assert "\n" not in summary and len(summary) <= 400
    # No Python reprs leaking into what a person reads.
    for leak in ("None", "UUID(", "Decimal(", "datetime.", "Money(", event_type):
        assert leak not in summary, summary


def test_summaries_carry_the_facts_a_person_needs() -> None:
    purchase = PurchaseMade(
        order_id=uuid.uuid4(),
        customer_id="c",
        total=Money(amount=Decimal("1299.90"), currency="BRL"),
        channel="web",
    )
    assert summarize(purchase) == "Purchase of 1,299.90 BRL via web"
    direct = purchase.model_copy(update={"channel": "direct"})
    assert summarize(direct) == "Purchase of 1,299.90 BRL directly"
    complaint = ComplaintFiled(
        case_id=uuid.uuid4(), customer_id="c", subject="Charged twice", severity="high"
    )
    assert summarize(complaint) == "Complaint filed via phone (high severity): Charged twice"
    moved = DealStageChanged(
        opportunity_id=uuid.uuid4(),
        customer_id="c",
        from_stage="qualification",
        to_stage="quote_requested",
    )
    # The end-to-end test and people filtering by stage read the stage as spelled.
    assert summarize(moved) == "Deal moved from qualification to quote_requested"
    lost = OpportunityLost(
        opportunity_id=uuid.uuid4(),
        customer_id="c",
        reason="competitor",
        details="Cheaper offer",
        competitor="ACME",
    )
    assert summarize(lost) == "Opportunity lost to ACME (competitor): Cheaper offer"
    reassigned = OpportunityAssigned(
        opportunity_id=uuid.uuid4(),
        customer_id="c",
        owner_id="seller-2",
        previous_owner_id="seller-1",
        rule="manual",
    )
    assert summarize(reassigned) == "Opportunity reassigned from seller-1 to seller-2 (manual)"
    call = ActivityLogged(
        activity_id=uuid.uuid4(),
        customer_id="c",
        kind="call",
        subject="Proposal follow-up",
        duration_minutes=18,
        outcome="Will call back",
        happened_at=datetime(2025, 6, 12, 14, 35, tzinfo=UTC),
    )
    assert summarize(call) == "Call: Proposal follow-up (18 min), outcome: Will call back"


def test_long_free_text_is_cut_to_one_short_line() -> None:
    event = ComplaintFiled(case_id=uuid.uuid4(), customer_id="c", subject="word\n" * 60)
    summary = summarize(event)
    assert "\n" not in summary and summary.endswith("…") and len(summary) < 220


def test_channel_is_the_events_own_else_its_context() -> None:
    def sales(cls: type[DomainEvent], n: int = 0) -> DomainEvent:
        examples = orjson.loads((EXAMPLES / f"{cls.event_type}.v1.json").read_bytes())
        return cls.model_validate(examples[n])

    assert channel_of(sales(ComplaintFiled)) == "chat"
    assert channel_of(sales(ComplaintFiled, 1)) == "phone"  # the contract's default
    assert channel_of(sales(PurchaseMade)) == "web"
    assert channel_of(sales(ActivityLogged)) == "call"  # the activity's kind
    assert channel_of(sales(ActivityLogged, 1)) == "meeting"
    assert channel_of(sales(FollowUpScheduled)) in {"email", "messaging", "in_app"}
    assert channel_of(sales(OrderPlaced)) == sales(OrderPlaced).channel  # type: ignore[attr-defined]
    assert channel_of(sales(RecordsMerged)) == "sales"
    assert channel_of(sales(DealStageChanged)) == "sales"


def test_actor_is_whoever_the_event_names() -> None:
    for event_type, expected in (
        ("crm.sales.activity_logged", "seller-7"),  # actor_id
        ("crm.sales.records_merged", "ops-2"),  # merged_by
    ):
        event = parse_data(
            event_type, 1, orjson.loads((EXAMPLES / f"{event_type}.v1.json").read_bytes())[0]
        )
        assert actor_of(event) == expected
    approved = parse_data(
        "crm.sales.quote_approved",
        1,
        orjson.loads((EXAMPLES / "crm.sales.quote_approved.v1.json").read_bytes())[0],
    )
    assert actor_of(approved) == approved.approved_by  # type: ignore[attr-defined]
    opened = parse_data(
        "crm.sales.opportunity_opened",
        1,
        {
            "opportunity_id": str(uuid.uuid4()),
            "customer_id": "c",
            "title": "t",
            "amount": {"amount": "1", "currency": "BRL"},
            "owner_id": "seller-9",
        },
    )
    assert actor_of(opened) == "seller-9"
    complaint = ComplaintFiled(case_id=uuid.uuid4(), customer_id="c", subject="s")
    assert actor_of(complaint) is None


def test_links_are_found_at_the_top_and_in_related_records() -> None:
    data = orjson.loads((EXAMPLES / "crm.sales.activity_logged.v1.json").read_bytes())[0]
    event = parse_data("crm.sales.activity_logged", 1, data)
    links = links_of(event.model_dump(mode="json"))
    assert links == {
        "account_id": data["related"]["account_id"],
        "opportunity_id": data["related"]["opportunity_id"],
    }  # contact_id is null there: not a link
    case_id, order_id = uuid.uuid4(), uuid.uuid4()
    assert links_of({"case_id": str(case_id), "customer_id": "c"}) == {"case_id": str(case_id)}
    purchase = PurchaseMade(
        order_id=order_id, customer_id="c", total=Money(amount=Decimal(1), currency="BRL")
    )
    assert links_of(purchase.model_dump(mode="json")) == {"order_id": str(order_id)}
    top = str(uuid.uuid4())
    assert links_of({"opportunity_id": top, "related": {"opportunity_id": "other"}}) == {
        "opportunity_id": top
    }


def test_origin_comes_from_the_topic() -> None:
    assert origin_of("crm.external.events") == "external"
    assert origin_of("test.abc.external.0") == "external"
    assert origin_of("crm.sales.events") == "internal"
    assert origin_of("crm.support.events") == "internal"
    assert origin_of("test.externality.0") == "internal"
