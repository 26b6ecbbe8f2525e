"""The event registry: data is validated against its contract, old versions are upcast,
unknown types and versions are refused, and the models are immutable facts."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import pydantic
import pytest

from contracts import registry
from contracts.events.sales import OpportunityOpened, PurchaseMade
from contracts.registry import DomainEvent, UnknownEventType, event_class, parse_data

ORDER_ID = "3d7e0f5a-2b4c-4d6e-8f10-a1b2c3d4e5f6"


def purchase_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "order_id": ORDER_ID,
        "customer_id": "cust-br-00042",
        "total": {"amount": "1999.90", "currency": "BRL"},
        "channel": "web",
    }
    data.update(overrides)
    return data


# --- validation ----------------------------------------------------------------------


def test_parse_data_returns_the_registered_model() -> None:
    event = parse_data("crm.sales.purchase_made", 1, purchase_data())
    assert isinstance(event, PurchaseMade)
    assert event.order_id == UUID(ORDER_ID)
    assert event.customer() == "cust-br-00042"


def test_unknown_currency_code_is_refused_naming_the_currency() -> None:
    bad = purchase_data(total={"amount": "10.00", "currency": "XYZ"})
    with pytest.raises(ValueError, match="currency"):
        parse_data("crm.sales.purchase_made", 1, bad)


def test_currency_code_is_normalised_to_upper_case() -> None:
    event = parse_data(
        "crm.sales.purchase_made", 1, purchase_data(total={"amount": "5", "currency": "ars"})
    )
    assert isinstance(event, PurchaseMade)
    assert event.total.currency == "ARS"


def test_missing_required_field_is_refused() -> None:
    data = purchase_data()
    del data["customer_id"]
    with pytest.raises(pydantic.ValidationError):
        parse_data("crm.sales.purchase_made", 1, data)


def test_amounts_stay_decimal_without_float_rounding() -> None:
    event = parse_data(
        "crm.sales.purchase_made", 1, purchase_data(total={"amount": "0.1", "currency": "BRL"})
    )
    assert isinstance(event, PurchaseMade)
    assert isinstance(event.total.amount, Decimal)
    assert event.total.amount == Decimal("0.1")
    assert event.total.amount + Decimal("0.2") == Decimal("0.3")


def test_amounts_serialise_as_strings_never_floats() -> None:
    event = parse_data(
        "crm.sales.purchase_made",
        1,
        purchase_data(total={"amount": "1234567890.1234", "currency": "ARS"}),
    )
    dumped = event.model_dump(mode="json")
    assert dumped["total"]["amount"] == "1234567890.1234"
    wire = orjson.loads(orjson.dumps(dumped))
    assert isinstance(wire["total"]["amount"], str)
    assert '"amount":"1234567890.1234"' in event.model_dump_json()


def test_amounts_with_more_than_four_decimal_places_are_refused() -> None:
    bad = purchase_data(total={"amount": "1.00001", "currency": "BRL"})
    with pytest.raises(pydantic.ValidationError):
        parse_data("crm.sales.purchase_made", 1, bad)


# --- unknown types and versions ------------------------------------------------------


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(UnknownEventType):
        parse_data("crm.sales.never_heard_of_it", 1, {})


@pytest.mark.parametrize("version", [0, -1, 2, 99])
def test_unknown_or_too_new_schema_version_is_refused(version: int) -> None:
    with pytest.raises(UnknownEventType):
        parse_data("crm.sales.purchase_made", version, purchase_data())


def test_event_class_looks_up_by_type_and_version() -> None:
    assert event_class("crm.sales.opportunity_opened") is OpportunityOpened
    assert event_class("crm.sales.opportunity_opened", 1) is OpportunityOpened
    with pytest.raises(UnknownEventType):
        event_class("crm.sales.opportunity_opened", 42)
    with pytest.raises(UnknownEventType):
        event_class("crm.sales.never_heard_of_it")


# --- forward compatibility and immutability ------------------------------------------


def test_unknown_extra_fields_are_ignored() -> None:
    data = purchase_data(loyalty_tier="gold", total={"amount": "1", "currency": "BRL", "fx": 1})
    event = parse_data("crm.sales.purchase_made", 1, data)
    dumped = event.model_dump(mode="json")
    assert "loyalty_tier" not in dumped
    assert dumped["total"] == {"amount": "1", "currency": "BRL"}


def test_events_are_frozen() -> None:
    event = parse_data("crm.sales.purchase_made", 1, purchase_data())
    assert isinstance(event, PurchaseMade)
    with pytest.raises(pydantic.ValidationError):
        event.channel = "store"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        event.total.amount = Decimal("0")  # type: ignore[misc]
    assert event.channel == "web"


# --- upcasting -----------------------------------------------------------------------
# A throwaway contract under a test-only type name, registered only while a test runs so
# the global registry (and the contract tests that iterate it) never sees it.

RENAMED = "test.unit.renamed_field"


class RenamedFieldV1(DomainEvent):
    event_type = RENAMED
    schema_version = 1
    context = "sales"

    client: str


class RenamedFieldV2(DomainEvent):
    event_type = RENAMED
    schema_version = 2
    context = "sales"

    customer_id: str
    vip: bool = False


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    upgraded = {k: v for k, v in data.items() if k != "client"}
    upgraded["customer_id"] = data["client"]
    return upgraded


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("_classes", "_latest", "_upcasters"):
        monkeypatch.setattr(registry, name, dict(getattr(registry, name)))
    yield


@pytest.fixture
def renamed_field(isolated_registry: None) -> None:
    registry.register(RenamedFieldV1)
    registry.register(RenamedFieldV2)
    registry.upcaster(RENAMED, 1)(_v1_to_v2)


def test_data_published_as_v1_is_read_as_the_v2_model(renamed_field: None) -> None:
    event = parse_data(RENAMED, 1, {"client": "cust-ar-20-12345678-6"})
    assert type(event) is RenamedFieldV2
    assert event.model_dump() == {"customer_id": "cust-ar-20-12345678-6", "vip": False}
    assert event.customer() == "cust-ar-20-12345678-6"


def test_data_published_as_v2_is_read_as_is(renamed_field: None) -> None:
    event = parse_data(RENAMED, 2, {"customer_id": "cust-br-1", "vip": True})
    assert event == RenamedFieldV2(customer_id="cust-br-1", vip=True)


def test_latest_version_is_the_default_class(renamed_field: None) -> None:
    assert event_class(RENAMED) is RenamedFieldV2
    assert event_class(RENAMED, 1) is RenamedFieldV1


def test_without_an_upcaster_old_data_is_refused(isolated_registry: None) -> None:
    registry.register(RenamedFieldV1)
    registry.register(RenamedFieldV2)
    with pytest.raises(UnknownEventType, match="upcaster"):
        parse_data(RENAMED, 1, {"client": "cust-br-1"})


def test_registering_a_different_class_under_a_taken_key_is_refused(
    isolated_registry: None,
) -> None:
    registry.register(RenamedFieldV1)

    class Impostor(DomainEvent):
        event_type = RENAMED
        schema_version = 1
        context = "sales"

    with pytest.raises(ValueError, match="registered twice"):
        registry.register(Impostor)


def test_the_throwaway_contract_is_not_left_in_the_registry() -> None:
    assert all(t != RENAMED for t, _ in registry.registered_types())
