"""Money and other value types shared by several contracts."""

from decimal import Decimal
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _known_currency(code: str) -> str:
    code = code.upper()
    if pycountry.currencies.get(alpha_3=code) is None:
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
