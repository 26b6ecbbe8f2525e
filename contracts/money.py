"""Money and other value types shared by several contracts."""

from decimal import Decimal
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_ISO_4217 = frozenset(currency.alpha_3 for currency in pycountry.currencies)
"""Looked up once: pycountry's own lookup costs more than the rest of a Money's validation."""


def _known_currency(code: str) -> str:
    code = code.upper()
    if code not in _ISO_4217:
        raise ValueError(f"unknown ISO 4217 currency code: {code!r}")
    return code


CurrencyCode = Annotated[
    str,
    Field(min_length=3, max_length=3, examples=["BRL", "ARS", "EUR"]),
    AfterValidator(_known_currency),
]


class Money(BaseModel):
    """An amount in one currency. Decimal on the wire as a string, never a float."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    amount: Decimal = Field(max_digits=18, decimal_places=4, examples=["1250.00"])
    currency: CurrencyCode
