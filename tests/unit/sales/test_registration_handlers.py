"""Registering customers, through the handlers on the in-memory store: a customer is
registered once whatever the channel; a second registration answers with the first."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from services.platform.decider import DomainError
from services.sales.application.commands import MergeRecord
from services.sales.domain import account, contact
from tests.unit.sales.sales_spec import SalesSpec

CNPJ = "11.222.333/0001-81"  # valid check digits


def padaria(**fields: object) -> account.RegisterAccount:
    base: dict[str, object] = {"account_id": uuid4(), "name": "Padaria São Jorge Ltda."}
    return account.RegisterAccount(**{**base, **fields})  # type: ignore[arg-type]


def ana(**fields: object) -> contact.RegisterContact:
    base: dict[str, object] = {"contact_id": uuid4(), "first_name": "Ana", "last_name": "Souza"}
    return contact.RegisterContact(**{**base, **fields})  # type: ignore[arg-type]


async def test_an_account_with_a_known_tax_id_answers_with_the_existing_record() -> None:
    sales = SalesSpec()
    [first] = await sales.given(padaria(tax_id=CNPJ, tax_country="BR"))
    answer = await sales.when(padaria(name="Padaria SJ", tax_id="11222333000181"))
    assert (answer["duplicate"], answer["id"], answer["event_ids"]) == (True, first["id"], [])
    assert answer["matched_on"] == ["tax:cnpj:11222333000181"]
    assert await sales.then() == []


async def test_a_contact_with_a_known_email_in_another_case_is_the_same_person() -> None:
    sales = SalesSpec()
    [first] = await sales.given(ana(emails=("Ana.Souza@Example.com",)))
    answer = await sales.when(ana(first_name="Ana Maria", emails=("ana.souza@example.com",)))
    assert (answer["duplicate"], answer["id"]) == (True, first["id"])
    assert await sales.then() == []


async def test_a_contact_is_never_linked_to_an_unknown_account() -> None:
    sales = SalesSpec()
    with pytest.raises(DomainError) as refused:
        await sales.when(ana(account_id=uuid4()))
    assert (refused.value.field, refused.value.code) == ("account_id", "unknown-account")
    assert await sales.then() == []


async def test_after_a_merge_the_survivor_answers_to_the_merged_records_identities() -> None:
    sales = SalesSpec()
    merged, survivor = await sales.given(ana(phones=("+55 11 91234-5678",)), ana())
    await sales.given(MergeRecord("contact", UUID(merged["id"]), UUID(survivor["id"])))
    answer = await sales.when(ana(phones=("(11) 91234-5678",)))
    assert (answer["duplicate"], answer["id"]) == (True, survivor["id"])
