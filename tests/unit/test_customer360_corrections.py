"""The customer 360 reducer applies corrections: corrected values replace the old ones
in the profile and so in its search columns; the rest of the profile stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from contracts.events.sales import (
    AccountDetails,
    AccountDetailsCorrected,
    AccountRegistered,
    Address,
    ContactDetails,
    ContactDetailsCorrected,
    ContactRegistered,
    TaxId,
)
from projections.customer360.profile import fold
from projections.customer360.projector import search_text

T0 = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
ACCOUNT = uuid.UUID("3e1d5c7a-9b2f-4c8e-a6d4-1f0e9d8c7b6a")
CONTACT = uuid.UUID("5f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c")
CUST = str(ACCOUNT)
CNPJ = TaxId(scheme="cnpj", number="11222333000181", country="BR")
NEW_CNPJ = TaxId(scheme="cnpj", number="11444777000161", country="BR")
SAO_PAULO = Address(city="São Paulo", state="SP", country="BR")
CAMPINAS = Address(city="Campinas", state="SP", country="BR")


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def account() -> AccountRegistered:
    return AccountRegistered(
        account_id=ACCOUNT, customer_id=CUST, name="Acme Indústria Ltda", tax_id=CNPJ,
        phones=["+551133334444"], emails=["compras@acme.com.br"], address=SAO_PAULO,
    )  # fmt: skip


def contact() -> ContactRegistered:
    return ContactRegistered(
        contact_id=CONTACT, customer_id=CUST, account_id=ACCOUNT, first_name="Ana",
        last_name="Souza", phones=["+5511987654321"], emails=["ana.souza@exemplo.com.br"],
    )  # fmt: skip


def test_an_account_correction_replaces_name_tax_id_email_and_address() -> None:
    corrected = AccountDetailsCorrected(
        account_id=ACCOUNT, customer_id=CUST, name="Acme Indústria e Comércio Ltda",
        tax_id=NEW_CNPJ, emails=["financeiro@acme.com.br"], address=CAMPINAS,
        previous=AccountDetails(name="Acme Indústria Ltda", tax_id=CNPJ,
                                emails=["compras@acme.com.br"], address=SAO_PAULO),
    )  # fmt: skip
    profile = fold([(account(), at(0)), (corrected, at(1))])
    assert profile is not None
    assert (profile.display_name, profile.company_name) == ("Acme Indústria e Comércio Ltda",) * 2
    assert [t.number for t in profile.tax_ids] == ["11444777000161"]
    assert profile.emails == ["financeiro@acme.com.br"]
    assert profile.phones == ["+551133334444"]  # not corrected: kept
    assert [a.city for a in profile.addresses] == ["Campinas"]
    assert profile.address is not None and profile.address.city == "Campinas"
    text = search_text(profile)
    assert "compras@acme.com.br" not in text and "11222333000181" not in text
    assert "financeiro@acme.com.br" in text and "11444777000161" in text


def test_a_contact_correction_replaces_the_persons_name_and_phone_only() -> None:
    corrected = ContactDetailsCorrected(
        contact_id=CONTACT, customer_id=CUST, first_name="Ana", last_name="Souza Lima",
        phones=["+5511912345678"],
        previous=ContactDetails(first_name="Ana", last_name="Souza", phones=["+5511987654321"]),
    )  # fmt: skip
    profile = fold([(account(), at(0)), (contact(), at(0.5)), (corrected, at(1))])
    assert profile is not None
    assert profile.person_names == ["Ana Souza Lima"]
    assert profile.phones == ["+551133334444", "+5511912345678"]  # the account's phone stays
    assert profile.emails == ["ana.souza@exemplo.com.br", "compras@acme.com.br"]
    assert profile.display_name == "Acme Indústria Ltda"  # the account is the main record


def test_a_correction_is_not_an_interaction_with_the_customer() -> None:
    corrected = ContactDetailsCorrected(
        contact_id=CONTACT, customer_id=CUST, phones=["+5511912345678"],
        previous=ContactDetails(phones=["+5511987654321"]),
    )  # fmt: skip
    before = fold([(contact(), at(0))])
    after = fold([(contact(), at(0)), (corrected, at(5))])
    assert before is not None and after is not None
    assert after.last_interaction_at == before.last_interaction_at
