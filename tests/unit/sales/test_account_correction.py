"""Given/when/then specs of correcting an account's details: only what changes is
recorded, checked as at registration, with the values it replaces. Pure: no I/O."""

from __future__ import annotations

from uuid import UUID

from contracts.events.sales import (
    AccountDetails,
    AccountDetailsCorrected,
    AccountRegistered,
    Address,
    RecordsMerged,
    TaxId,
)
from services.sales.domain.account import CorrectAccount, decider
from tests.unit.gwt import Spec

ACCOUNT_ID = UUID("3e1d5c7a-9b2f-4c8e-a6d4-1f0e9d8c7b6a")
SURVIVOR_ID = UUID("8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d")
CNPJ = TaxId(scheme="cnpj", number="11222333000181", country="BR")
OTHER_CNPJ = TaxId(scheme="cnpj", number="11444777000161", country="BR")
EMAIL = "compras@padariasaojorge.com.br"

given = Spec(decider).given


def registered() -> AccountRegistered:
    return AccountRegistered(
        account_id=ACCOUNT_ID,
        customer_id=str(ACCOUNT_ID),
        name="Padaria São Jorge Ltda.",
        tax_id=CNPJ,
        phones=["+551132851234"],
        emails=[EMAIL],
    )


def merged() -> RecordsMerged:
    return RecordsMerged(
        kind="account",
        survivor_id=SURVIVOR_ID,
        merged_id=ACCOUNT_ID,
        customer_id=str(SURVIVOR_ID),
        merged_customer_id=str(ACCOUNT_ID),
    )


def correct(**fields: object) -> CorrectAccount:
    return CorrectAccount(account_id=ACCOUNT_ID, **fields)  # type: ignore[arg-type]


def test_a_corrected_email_is_recorded_normalised_with_the_one_it_replaces() -> None:
    given(registered()).when(
        correct(emails=(" Financeiro@PadariaSaoJorge.com.br",), corrected_by="seller-7")
    ).then(
        AccountDetailsCorrected(
            account_id=ACCOUNT_ID,
            customer_id=str(ACCOUNT_ID),
            emails=["financeiro@padariasaojorge.com.br"],
            previous=AccountDetails(emails=[EMAIL]),
            corrected_by="seller-7",
        )
    )


def test_fields_given_with_their_current_value_are_left_out() -> None:
    given(registered()).when(
        correct(name="Padaria SJ", tax_id="11.222.333/0001-81", phones=("(11) 3285-1234",))
    ).then(
        AccountDetailsCorrected(
            account_id=ACCOUNT_ID,
            customer_id=str(ACCOUNT_ID),
            name="Padaria SJ",
            previous=AccountDetails(name="Padaria São Jorge Ltda."),
        )
    )


def test_a_correction_that_changes_nothing_appends_nothing() -> None:
    given(registered()).when(correct(emails=(EMAIL.upper(),))).then()


def test_a_new_tax_id_and_address_replace_none() -> None:
    address = Address(city="Campinas", state="SP", country="BR")
    given(registered()).when(correct(tax_id="11.444.777/0001-61", address=address)).then(
        AccountDetailsCorrected(
            account_id=ACCOUNT_ID,
            customer_id=str(ACCOUNT_ID),
            tax_id=OTHER_CNPJ,
            address=address,
            previous=AccountDetails(tax_id=CNPJ),
        )
    )


def test_the_corrected_identity_becomes_the_records_identity_keys() -> None:
    history = [registered()]
    (event,) = decider.decide(correct(phones=("(11) 91234-5678",)), decider.fold(history))
    state = decider.fold([*history, event])
    assert state.identity_keys == (
        "tax:cnpj:11222333000181",
        f"email:{EMAIL}",
        "phone:+5511912345678",
    )


def test_an_empty_patch_is_refused() -> None:
    given(registered()).when(correct(corrected_by="x")).then_raises(code="empty-patch")


def test_an_invalid_tax_id_is_refused_as_at_registration() -> None:
    given(registered()).when(correct(tax_id="11.222.333/0001-82")).then_raises(
        field="tax_id", code="invalid-tax-id"
    )


def test_an_invalid_phone_is_refused_naming_its_position() -> None:
    given(registered()).when(correct(phones=("(11) 3285-1234", "12345"))).then_raises(
        field="phones[1]", code="invalid-phone"
    )


def test_a_blank_name_is_refused() -> None:
    given(registered()).when(correct(name="   ")).then_raises(field="name")


def test_an_unknown_account_is_not_found() -> None:
    given().when(correct(name="Padaria SJ")).then_raises(code="not-found")


def test_a_merged_account_takes_no_correction() -> None:
    given(registered(), merged()).when(correct(name="Padaria SJ")).then_raises(code="merged")
