"""Correcting customers through the handlers, on the in-memory store: the identity keys
follow the correction, and another record's identity is refused."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from services.platform.decider import DomainError
from services.platform.eventstore import WrongExpectedVersion
from services.sales.application.commands import CorrectDetails
from services.sales.domain import account, contact
from tests.unit.sales.sales_spec import SalesSpec


def ana(**fields: object) -> contact.RegisterContact:
    base: dict[str, object] = {"contact_id": uuid4(), "first_name": "Ana", "last_name": "Souza"}
    return contact.RegisterContact(**{**base, **fields})  # type: ignore[arg-type]


def correct(contact_id: str, version: int | None = None, **fields: object) -> CorrectDetails:
    command = contact.CorrectContact(contact_id=UUID(contact_id), **fields)  # type: ignore[arg-type]
    return CorrectDetails(command, version)


async def test_an_email_of_another_contact_is_refused_and_nothing_is_appended() -> None:
    sales = SalesSpec()
    first, _ = await sales.given(ana(emails=("ana@example.com",)), ana(emails=("bia@example.com",)))
    with pytest.raises(DomainError) as refused:
        await sales.when(correct(first["id"], emails=("BIA@example.com",)))
    assert (refused.value.code, refused.value.field) == ("duplicate", "emails")
    assert await sales.then() == []


async def test_the_replaced_email_is_free_and_the_new_one_finds_the_record() -> None:
    sales = SalesSpec()
    [first] = await sales.given(ana(emails=("ana@example.com",)))
    await sales.when(correct(first["id"], emails=("ana.souza@example.com",)))
    again = await sales.when(ana(first_name="Ana S.", emails=("ana.souza@example.com",)))
    assert (again["duplicate"], again["id"]) == (True, first["id"])
    other = await sales.when(ana(first_name="Ana Maria", emails=("ana@example.com",)))
    assert other["duplicate"] is False and other["id"] != first["id"]


async def test_a_stale_version_is_a_conflict() -> None:
    sales = SalesSpec()
    [first] = await sales.given(ana())
    with pytest.raises(WrongExpectedVersion):
        await sales.when(correct(first["id"], 2, first_name="Anna"))
    assert await sales.then() == []


async def test_an_account_correction_appends_one_event_at_the_version_named() -> None:
    sales = SalesSpec()
    [first] = await sales.given(account.RegisterAccount(uuid4(), "Padaria São Jorge"))
    command = account.CorrectAccount(UUID(first["id"]), name="Padaria São Jorge Ltda.")
    answer = await sales.when(CorrectDetails(command, 1))
    assert (answer["version"], await sales.then_types()) == (
        2, ["crm.sales.account_details_corrected"],
    )  # fmt: skip
