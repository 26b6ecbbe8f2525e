"""The sales OpenAPI document states the rules the service enforces that JSON Schema can
express, and each documented rule holds for the service."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pycountry
import pytest

from contracts.money import Money
from services.platform.decider import DomainError
from services.sales.domain.identity import normalize_email
from services.sales.entrypoints.http import create_app

SCHEMAS: dict[str, Any] = create_app().openapi()["components"]["schemas"]


@pytest.mark.parametrize("body", ["RegisterAccountBody", "RegisterContactBody", "CaptureLeadBody"])
def test_emails_are_documented_as_e_mail_addresses(body: str) -> None:
    assert SCHEMAS[body]["properties"]["emails"]["items"]["format"] == "email"


def test_not_an_e_mail_address_is_refused_as_documented() -> None:
    with pytest.raises(DomainError):
        normalize_email("not-an-address")


@pytest.mark.parametrize(("body", "field"), [("OpenOpportunityBody", "amount"),
                                             ("OpportunityDraft", "amount")])  # fmt: skip
def test_a_deals_currency_is_one_of_iso_4217_and_each_is_accepted(body: str, field: str) -> None:
    amount = SCHEMAS[body]["properties"][field]
    documented = set(amount["properties"]["currency"]["enum"])
    assert documented == {c.alpha_3 for c in pycountry.currencies}
    for code in documented:
        assert Money(amount=Decimal(1), currency=code).currency == code
    assert amount["properties"]["amount"]["anyOf"][0]["minimum"] == 0


@pytest.mark.parametrize("field", ["quantity", "discount_percent"])
def test_quote_decimals_sent_as_strings_are_documented_with_a_pattern(field: str) -> None:
    pattern = re.compile(SCHEMAS["QuoteItemBody"]["properties"][field]["pattern"])
    assert all(pattern.match(s) for s in ("1", "2.5", "0.25", "10."))
    assert not any(pattern.match(s) for s in ("", "abc", "1,5", "1.2.3"))


def test_a_quote_needs_at_least_one_item() -> None:
    assert SCHEMAS["IssueQuoteBody"]["properties"]["items"]["minItems"] == 1
