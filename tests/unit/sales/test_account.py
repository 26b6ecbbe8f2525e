"""Given/when/then specs of the account decider: registration with checked identity data,
and merging a duplicate into its survivor. Pure: no store, no broker."""

from __future__ import annotations

from uuid import UUID

import pytest

from contracts.events.sales import AccountRegistered, Address, RecordsMerged, TaxId
from contracts.registry import DomainEvent
from services.sales.domain.account import (
    Account,
    MergeInto,
    RegisterAccount,
    decide,
    decider,
    stream_id,
)
from tests.unit.gwt import Spec

ACCOUNT_ID = UUID("3e1d5c7a-9b2f-4c8e-a6d4-1f0e9d8c7b6a")
SURVIVOR_ID = UUID("8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d")
NAME = "Padaria São Jorge Ltda."
CNPJ = TaxId(scheme="cnpj", number="11222333000181", country="BR")
ADDRESS = Address(
    street="Rua Augusta, 1500",
    city="São Paulo",
    state="SP",
    postal_code="01304-001",
    country="BR",
)


given = Spec(decider).given


def registered(**overrides: object) -> AccountRegistered:
    fields: dict[str, object] = {
        "account_id": ACCOUNT_ID,
        "customer_id": str(ACCOUNT_ID),
        "name": NAME,
        "tax_id": CNPJ,
        "phones": ["+551132851234"],
        "emails": ["compras@padariasaojorge.com.br"],
    }
    fields.update(overrides)
    return AccountRegistered(**fields)  # type: ignore[arg-type]


def merged(**overrides: object) -> RecordsMerged:
    fields: dict[str, object] = {
        "kind": "account",
        "survivor_id": SURVIVOR_ID,
        "merged_id": ACCOUNT_ID,
        "customer_id": str(SURVIVOR_ID),
        "merged_customer_id": str(ACCOUNT_ID),
    }
    fields.update(overrides)
    return RecordsMerged(**fields)  # type: ignore[arg-type]


def register(**overrides: object) -> RegisterAccount:
    fields: dict[str, object] = {
        "account_id": ACCOUNT_ID,
        "name": NAME,
        "tax_id": "11.222.333/0001-81",
        "phones": ("(11) 3285-1234",),
        "emails": ("Compras@PadariaSaoJorge.com.br",),
    }
    fields.update(overrides)
    return RegisterAccount(**fields)  # type: ignore[arg-type]


def merge(**overrides: object) -> MergeInto:
    fields: dict[str, object] = {
        "record_id": ACCOUNT_ID,
        "survivor_id": SURVIVOR_ID,
        "survivor_customer_id": str(SURVIVOR_ID),
    }
    fields.update(overrides)
    return MergeInto(**fields)  # type: ignore[arg-type]


# --- registering ---------------------------------------------------------------------


def test_registering_emits_account_registered_with_normalised_identity_data() -> None:
    given().when(register(address=ADDRESS, owner_id="seller-7", kind="group")).then(
        AccountRegistered(
            account_id=ACCOUNT_ID,
            customer_id=str(ACCOUNT_ID),
            name=NAME,
            kind="group",
            tax_id=CNPJ,
            phones=["+551132851234"],
            emails=["compras@padariasaojorge.com.br"],
            address=ADDRESS,
            owner_id="seller-7",
        )
    )


def test_the_customer_id_of_an_account_is_its_own_id() -> None:
    (event,) = decide(register(), Account())
    assert isinstance(event, AccountRegistered)
    assert event.customer_id == str(ACCOUNT_ID) == event.customer()


def test_an_argentine_account_reads_its_cuit_and_national_phones_in_argentina() -> None:
    given().when(
        register(
            name="  Distribuidora Río de la Plata S.A. ",
            tax_id="30-50001091-2",
            tax_country="AR",
            phones=("011 15-2345-6789",),
            emails=(),
            default_region="AR",
        )
    ).then(
        AccountRegistered(
            account_id=ACCOUNT_ID,
            customer_id=str(ACCOUNT_ID),
            name="Distribuidora Río de la Plata S.A.",
            tax_id=TaxId(scheme="cuit", number="30500010912", country="AR"),
            phones=["+5491123456789"],
        )
    )


def test_registering_without_identity_data_is_allowed() -> None:
    given().when(register(tax_id=None, phones=(), emails=())).then(
        registered(tax_id=None, phones=[], emails=[])
    )


def test_a_blank_tax_id_counts_as_none() -> None:
    given().when(register(tax_id="   ")).then(registered(tax_id=None))


def test_duplicate_phones_and_emails_are_kept_once() -> None:
    given().when(
        register(
            phones=("(11) 3285-1234", "+55 11 3285-1234"),
            emails=("compras@padariasaojorge.com.br", "COMPRAS@padariasaojorge.com.br"),
        )
    ).then(registered())


def test_registering_twice_is_refused_as_already_existing() -> None:
    given(registered()).when(register()).then_raises(code="already-exists")


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_a_blank_name_is_refused_on_the_name_field(name: str) -> None:
    given().when(register(name=name)).then_raises(field="name")


def test_a_name_longer_than_the_contract_allows_is_refused_on_the_name_field() -> None:
    given().when(register(name="P" * 301)).then_raises(field="name")


def test_an_unknown_kind_is_refused_on_the_kind_field() -> None:
    given().when(register(kind="person")).then_raises(field="kind")


def test_a_cnpj_with_wrong_check_digits_is_refused_on_the_tax_id_field() -> None:
    error = (
        given()
        .when(register(tax_id="11.222.333/0001-82"))
        .then_raises(field="tax_id", code="invalid-tax-id")
    )
    assert str(error) == "invalid CNPJ check digits"


def test_an_unsupported_tax_country_is_refused_on_the_tax_country_field() -> None:
    given().when(register(tax_country="CL")).then_raises(
        field="tax_country", code="unsupported-tax-country"
    )


def test_an_invalid_phone_is_refused_naming_its_position() -> None:
    given().when(register(phones=("(11) 3285-1234", "123"))).then_raises(
        field="phones[1]", code="invalid-phone"
    )


def test_an_invalid_email_is_refused_naming_its_position() -> None:
    given().when(register(emails=("sem-arroba",))).then_raises(
        field="emails[0]", code="invalid-email"
    )


# --- merging -------------------------------------------------------------------------


def test_merging_points_the_merged_account_at_the_survivors_customer() -> None:
    given(registered()).when(merge(reason="CNPJ duplicado", merged_by="ops-2")).then(
        merged(reason="CNPJ duplicado", merged_by="ops-2")
    )


def test_merging_an_account_that_does_not_exist_is_refused_as_not_found() -> None:
    given().when(merge()).then_raises(code="not-found")


def test_merging_an_account_into_itself_is_refused_on_the_survivor_field() -> None:
    given(registered()).when(merge(survivor_id=ACCOUNT_ID)).then_raises(field="survivor_id")


def test_merging_into_a_blank_customer_is_refused() -> None:
    given(registered()).when(merge(survivor_customer_id=" ")).then_raises(
        field="survivor_customer_id"
    )


def test_merging_twice_is_refused_as_merged_naming_the_survivor() -> None:
    error = (
        given(registered(), merged())
        .when(merge(survivor_id=UUID(int=7), survivor_customer_id="other"))
        .then_raises(code="merged")
    )
    assert str(SURVIVOR_ID) in str(error)


def test_a_merged_account_cannot_be_registered_again() -> None:
    error = given(registered(), merged()).when(register()).then_raises(code="merged")
    assert str(SURVIVOR_ID) in str(error)


# --- evolve --------------------------------------------------------------------------


def test_initial_state_is_a_non_existent_account() -> None:
    assert decider.fold([]) == Account(exists=False)


def test_evolve_keeps_name_customer_details_and_identity_keys() -> None:
    assert decider.fold([registered(address=ADDRESS)]) == Account(
        exists=True,
        customer_id=str(ACCOUNT_ID),
        name=NAME,
        identity_keys=(
            "tax:cnpj:11222333000181",
            "email:compras@padariasaojorge.com.br",
            "phone:+551132851234",
        ),
        tax_id=CNPJ,
        phones=("+551132851234",),
        emails=("compras@padariasaojorge.com.br",),
        address=ADDRESS,
    )


def test_evolve_records_the_survivor_of_a_merge() -> None:
    state = decider.fold([registered(), merged()])
    assert state.merged_into == SURVIVOR_ID and state.exists and state.name == NAME


def test_evolve_ignores_events_it_does_not_know() -> None:
    class SomethingElse(DomainEvent):
        context = "sales"
        event_type = "crm.sales.something_else_for_account_test"

    before = decider.fold([registered()])
    assert decider.evolve(before, SomethingElse()) == before


def test_stream_id_names_the_account() -> None:
    assert stream_id(ACCOUNT_ID) == f"account-{ACCOUNT_ID}"
