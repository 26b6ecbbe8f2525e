"""Given/when/then specs of correcting a contact's details. Pure: no I/O."""

from __future__ import annotations

from uuid import UUID

from contracts.events.sales import ContactDetails, ContactDetailsCorrected, ContactRegistered
from services.sales.domain.contact import CorrectContact, decider
from tests.unit.gwt import Spec

CONTACT_ID = UUID("5f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c")
ACCOUNT_ID = UUID("3e1d5c7a-9b2f-4c8e-a6d4-1f0e9d8c7b6a")

given = Spec(decider).given


def registered() -> ContactRegistered:
    return ContactRegistered(
        contact_id=CONTACT_ID,
        customer_id=str(ACCOUNT_ID),
        account_id=ACCOUNT_ID,
        first_name="Ana",
        last_name="Souza",
        job_title="Compradora",
        phones=["+5511987654321"],
        emails=["ana.souza@exemplo.com.br"],
    )


def correct(**fields: object) -> CorrectContact:
    return CorrectContact(contact_id=CONTACT_ID, **fields)  # type: ignore[arg-type]


def test_a_corrected_last_name_carries_the_whole_name_before_and_after() -> None:
    given(registered()).when(correct(last_name=" Souza Lima ")).then(
        ContactDetailsCorrected(
            contact_id=CONTACT_ID,
            customer_id=str(ACCOUNT_ID),
            first_name="Ana",
            last_name="Souza Lima",
            previous=ContactDetails(first_name="Ana", last_name="Souza"),
        )
    )


def test_phone_and_job_title_corrected_on_the_accounts_customer() -> None:
    given(registered()).when(
        correct(phones=("(11) 91234-5678",), job_title="Gerente de compras")
    ).then(
        ContactDetailsCorrected(
            contact_id=CONTACT_ID,
            customer_id=str(ACCOUNT_ID),
            job_title="Gerente de compras",
            phones=["+5511912345678"],
            previous=ContactDetails(job_title="Compradora", phones=["+5511987654321"]),
        )
    )


def test_a_cpf_is_checked_as_at_registration() -> None:
    given(registered()).when(correct(tax_id="529.982.247-26")).then_raises(
        field="tax_id", code="invalid-tax-id"
    )


def test_an_invalid_email_is_refused_naming_its_position() -> None:
    given(registered()).when(correct(emails=("ana@", "x"))).then_raises(
        field="emails[0]", code="invalid-email"
    )


def test_a_blank_job_title_is_refused_rather_than_read_as_unchanged() -> None:
    given(registered()).when(correct(job_title=" ")).then_raises(field="job_title")


def test_an_empty_patch_is_refused() -> None:
    given(registered()).when(correct()).then_raises(code="empty-patch")


def test_an_unknown_contact_is_not_found() -> None:
    given().when(correct(first_name="Ana")).then_raises(code="not-found")
