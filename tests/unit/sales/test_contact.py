"""Given/when/then specs of the contact decider: a person on their own or at an account,
with checked identity data, and merging a duplicate into its survivor."""

from __future__ import annotations

from uuid import UUID

import pytest

from contracts.events.sales import Address, ContactRegistered, RecordsMerged, TaxId
from services.sales.domain.contact import (
    Contact,
    MergeInto,
    RegisterContact,
    decider,
    stream_id,
)
from tests.unit.gwt import Spec

CONTACT_ID = UUID("5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d")
ACCOUNT_ID = UUID("3e1d5c7a-9b2f-4c8e-a6d4-1f0e9d8c7b6a")
SURVIVOR_ID = UUID("9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f")
CPF = TaxId(scheme="cpf", number="52998224725", country="BR")


given = Spec(decider).given


def registered(**overrides: object) -> ContactRegistered:
    fields: dict[str, object] = {
        "contact_id": CONTACT_ID,
        "customer_id": str(CONTACT_ID),
        "first_name": "Maria",
        "last_name": "da Silva",
        "tax_id": CPF,
        "phones": ["+5511912345678"],
        "emails": ["maria.silva@exemplo.com.br"],
    }
    fields.update(overrides)
    return ContactRegistered(**fields)  # type: ignore[arg-type]


def merged(**overrides: object) -> RecordsMerged:
    fields: dict[str, object] = {
        "kind": "contact",
        "survivor_id": SURVIVOR_ID,
        "merged_id": CONTACT_ID,
        "customer_id": str(SURVIVOR_ID),
        "merged_customer_id": str(CONTACT_ID),
    }
    fields.update(overrides)
    return RecordsMerged(**fields)  # type: ignore[arg-type]


def register(**overrides: object) -> RegisterContact:
    fields: dict[str, object] = {
        "contact_id": CONTACT_ID,
        "first_name": "Maria",
        "last_name": "da Silva",
        "tax_id": "529.982.247-25",
        "phones": ("(11) 91234-5678",),
        "emails": ("Maria.Silva@Exemplo.com.br",),
    }
    fields.update(overrides)
    return RegisterContact(**fields)  # type: ignore[arg-type]


def merge(**overrides: object) -> MergeInto:
    fields: dict[str, object] = {
        "record_id": CONTACT_ID,
        "survivor_id": SURVIVOR_ID,
        "survivor_customer_id": str(SURVIVOR_ID),
    }
    fields.update(overrides)
    return MergeInto(**fields)  # type: ignore[arg-type]


# --- registering ---------------------------------------------------------------------


def test_a_contact_on_their_own_is_their_own_customer() -> None:
    given().when(register()).then(registered())


def test_a_contact_of_an_account_belongs_to_the_accounts_customer() -> None:
    address = Address(city="Campinas", state="SP", country="BR")
    given().when(
        register(
            account_id=ACCOUNT_ID,
            job_title=" Gerente de Compras ",
            address=address,
            owner_id="seller-7",
        )
    ).then(
        registered(
            customer_id=str(ACCOUNT_ID),
            account_id=ACCOUNT_ID,
            job_title="Gerente de Compras",
            address=address,
            owner_id="seller-7",
        )
    )


def test_an_argentine_contact_with_a_cuil_and_a_mobile_read_in_argentina() -> None:
    given().when(
        register(
            first_name="Juan Martín",
            last_name="Pérez",
            tax_id="20-12345678-6",
            tax_country=None,
            phones=("011 15-2345-6789",),
            emails=("juan.perez@correo.com.ar",),
            default_region="AR",
        )
    ).then(
        registered(
            first_name="Juan Martín",
            last_name="Pérez",
            tax_id=TaxId(scheme="cuit", number="20123456786", country="AR"),
            phones=["+5491123456789"],
            emails=["juan.perez@correo.com.ar"],
        )
    )


def test_names_are_stripped_and_a_missing_last_name_is_empty() -> None:
    given().when(register(first_name="  Maria ", last_name="  ", tax_id=None)).then(
        registered(last_name="", tax_id=None)
    )


def test_registering_twice_is_refused_as_already_existing() -> None:
    given(registered()).when(register()).then_raises(code="already-exists")


@pytest.mark.parametrize("first_name", ["", "  "])
def test_a_blank_first_name_is_refused_on_its_field(first_name: str) -> None:
    given().when(register(first_name=first_name)).then_raises(field="first_name")


@pytest.mark.parametrize(
    ("field", "value"),
    [("first_name", "M" * 121), ("last_name", "S" * 121), ("job_title", "J" * 201)],
)
def test_text_longer_than_the_contract_allows_is_refused_on_its_field(
    field: str, value: str
) -> None:
    given().when(register(**{field: value})).then_raises(field=field)


def test_a_cpf_with_wrong_check_digits_is_refused_on_the_tax_id_field() -> None:
    given().when(register(tax_id="529.982.247-26")).then_raises(
        field="tax_id", code="invalid-tax-id"
    )


def test_an_invalid_phone_is_refused_naming_its_position() -> None:
    given().when(register(phones=("(11) 91234-5678", "+55 11 9"))).then_raises(
        field="phones[1]", code="invalid-phone"
    )


def test_an_invalid_email_is_refused_naming_its_position() -> None:
    given().when(register(emails=("maria@", "ok@exemplo.com"))).then_raises(
        field="emails[0]", code="invalid-email"
    )


# --- merging -------------------------------------------------------------------------


def test_merging_points_the_merged_contact_at_the_survivors_customer() -> None:
    given(registered(customer_id=str(ACCOUNT_ID), account_id=ACCOUNT_ID)).when(
        merge(survivor_customer_id="cust-br-00042", reason="mesmo CPF", merged_by="ops-2")
    ).then(
        merged(
            customer_id="cust-br-00042",
            merged_customer_id=str(ACCOUNT_ID),
            reason="mesmo CPF",
            merged_by="ops-2",
        )
    )


def test_merging_a_contact_that_does_not_exist_is_refused_as_not_found() -> None:
    given().when(merge()).then_raises(code="not-found")


def test_merging_a_contact_into_itself_is_refused_on_the_survivor_field() -> None:
    given(registered()).when(merge(survivor_id=CONTACT_ID)).then_raises(field="survivor_id")


def test_merging_twice_is_refused_as_merged_naming_the_survivor() -> None:
    error = (
        given(registered(), merged())
        .when(merge(survivor_id=UUID(int=9)))
        .then_raises(code="merged")
    )
    assert str(SURVIVOR_ID) in str(error)


def test_a_merged_contact_cannot_be_registered_again() -> None:
    given(registered(), merged()).when(register()).then_raises(code="merged")


# --- evolve --------------------------------------------------------------------------


def test_initial_state_is_a_non_existent_contact() -> None:
    assert decider.fold([]) == Contact(exists=False)


def test_evolve_keeps_names_customer_account_details_and_identity_keys() -> None:
    event = registered(customer_id=str(ACCOUNT_ID), account_id=ACCOUNT_ID, job_title="Compradora")
    assert decider.fold([event]) == Contact(
        exists=True,
        customer_id=str(ACCOUNT_ID),
        account_id=ACCOUNT_ID,
        first_name="Maria",
        last_name="da Silva",
        identity_keys=(
            "tax:cpf:52998224725",
            "email:maria.silva@exemplo.com.br",
            "phone:+5511912345678",
        ),
        job_title="Compradora",
        tax_id=CPF,
        phones=("+5511912345678",),
        emails=("maria.silva@exemplo.com.br",),
    )


def test_evolve_records_the_survivor_of_a_merge() -> None:
    assert decider.fold([registered(), merged()]).merged_into == SURVIVOR_ID


def test_stream_id_names_the_contact() -> None:
    assert stream_id(CONTACT_ID) == f"contact-{CONTACT_ID}"
