"""Product catalogue and price lists: turns quote items into priced lines and totals.

Rounding rule: money is rounded to 2 places (ROUND_HALF_UP) only per line, for the net
and the tax; every total is a sum of rounded lines, so a printed quote always adds up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from importlib import resources
from pathlib import Path
from typing import Any

from contracts.events.sales import QuoteLine, QuoteTotals
from contracts.money import Money
from services.platform.decider import DomainError

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)

# Limits of the published contracts (QuoteLine, Money), checked here so that a pydantic
# ValidationError never escapes a decision.
MAX_QUANTITY = Decimal("1e10")  # quantity: max_digits=14, decimal_places=4
MAX_AMOUNT = Decimal("1e14")  # Money.amount: max_digits=18, decimal_places=4
MAX_PLACES = 4
MAX_ID_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 500
# Wide enough that no product of contract-bounded inputs is ever rounded by the context.
_PRECISION = 60


def round_money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class QuoteItem:
    product_id: str
    quantity: Decimal
    discount_percent: Decimal = ZERO


@dataclass(frozen=True)
class PriceList:
    id: str
    currency: str


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    tax_percent: Decimal
    prices: Mapping[str, Decimal]


@dataclass(frozen=True)
class PricedQuote:
    lines: list[QuoteLine]
    totals: QuoteTotals
    max_discount_percent: Decimal


@dataclass(frozen=True)
class Catalogue:
    price_lists: Mapping[str, PriceList]
    products: Mapping[str, Product]

    @classmethod
    def load(cls, path: Path | str | None = None) -> Catalogue:
        """Read a catalogue file; by default the one packaged with the sales service."""
        if path is None:
            text = resources.files("services.sales").joinpath("config/catalogue.json")
            return cls.from_dict(json.loads(text.read_text(encoding="utf-8")))
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Catalogue:
        """Build a catalogue from its JSON shape; a malformed file is a ValueError."""
        price_lists: dict[str, PriceList] = {}
        for list_id, spec in dict(data["price_lists"]).items():
            _check_id(list_id, "price list")
            # An unknown ISO 4217 code fails here (pydantic's ValidationError is a ValueError).
            currency = Money(amount=ZERO, currency=spec["currency"]).currency
            price_lists[list_id] = PriceList(id=list_id, currency=currency)
        products: dict[str, Product] = {}
        for spec in data["products"]:
            product_id = str(spec["id"])
            _check_id(product_id, "product")
            if product_id in products:
                raise ValueError(f"product {product_id!r} listed twice")
            name = str(spec["name"])
            if not name.strip() or len(name) > MAX_DESCRIPTION_LENGTH:
                raise ValueError(f"product {product_id!r}: name must be 1..500 characters")
            tax = _config_decimal(spec["tax_percent"], f"{product_id}.tax_percent")
            if tax > HUNDRED:
                raise ValueError(f"product {product_id!r}: tax_percent above 100")
            prices: dict[str, Decimal] = {}
            for list_id, raw in dict(spec["prices"]).items():
                if list_id not in price_lists:
                    raise ValueError(f"product {product_id!r}: unknown price list {list_id!r}")
                price = _config_decimal(raw, f"{product_id}.prices.{list_id}")
                if price >= MAX_AMOUNT:
                    raise ValueError(f"product {product_id!r}: price too large")
                prices[list_id] = price
            products[product_id] = Product(product_id, name, tax, prices)
        return cls(price_lists=price_lists, products=products)

    def currency(self, price_list: str) -> str:
        if price_list not in self.price_lists:
            raise DomainError(
                f"unknown price list {price_list!r}", field="price_list", code="unknown-price-list"
            )
        return self.price_lists[price_list].currency

    def price(
        self, price_list: str, items: Sequence[QuoteItem]
    ) -> tuple[list[QuoteLine], QuoteTotals, Decimal]:
        """Price ``items`` in ``price_list``: (lines, totals, highest discount percent)."""
        priced = self.price_quote(price_list, items)
        return priced.lines, priced.totals, priced.max_discount_percent

    def price_quote(self, price_list: str, items: Sequence[QuoteItem]) -> PricedQuote:
        currency = self.currency(price_list)
        if not items:
            raise DomainError("a quote needs at least one item", field="items", code="no-items")
        lines: list[QuoteLine] = []
        gross = net = tax = ZERO
        max_discount = ZERO
        for index, item in enumerate(items):
            product, unit_price = self._product_price(price_list, index, item)
            quantity = _valid_quantity(index, item.quantity)
            discount = _valid_discount(index, item.discount_percent)
            with localcontext() as ctx:
                ctx.prec = _PRECISION
                line_gross = round_money(quantity * unit_price)
                line_net = round_money(quantity * unit_price * (HUNDRED - discount) / HUNDRED)
                line_tax = round_money(line_net * product.tax_percent / HUNDRED)
            if max(line_gross, line_net + line_tax) >= MAX_AMOUNT:
                raise DomainError(
                    "line amount too large", field=f"items[{index}].quantity", code="too-large"
                )
            gross, net, tax = gross + line_gross, net + line_net, tax + line_tax
            max_discount = max(max_discount, discount)
            lines.append(
                QuoteLine(
                    product_id=product.id,
                    description=product.name,
                    quantity=quantity,
                    unit_price=Money(amount=unit_price, currency=currency),
                    discount_percent=discount,
                    tax_percent=product.tax_percent,
                    net_amount=Money(amount=line_net, currency=currency),
                    tax_amount=Money(amount=line_tax, currency=currency),
                )
            )
        if max(gross, net + tax) >= MAX_AMOUNT:
            raise DomainError("quote total too large", field="items", code="too-large")

        def money(amount: Decimal) -> Money:
            return Money(amount=amount, currency=currency)

        totals = QuoteTotals(
            gross=money(gross),
            discount=money(gross - net),
            net=money(net),
            tax=money(tax),
            total=money(net + tax),
        )
        return PricedQuote(lines=lines, totals=totals, max_discount_percent=max_discount)

    def _product_price(
        self, price_list: str, index: int, item: QuoteItem
    ) -> tuple[Product, Decimal]:
        field = f"items[{index}].product_id"
        product = self.products.get(item.product_id) if isinstance(item.product_id, str) else None
        if product is None:
            raise DomainError(
                f"unknown product {item.product_id!r}", field=field, code="unknown-product"
            )
        if price_list not in product.prices:
            raise DomainError(
                f"product {product.id!r} has no price in {price_list!r}",
                field=field,
                code="not-in-price-list",
            )
        return product, product.prices[price_list]


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _within_places(value: Decimal) -> Decimal | None:
    """``value`` with at most 4 decimal places (trailing zeros dropped), else None."""
    if _places(value) <= MAX_PLACES:
        return value
    shortened = value.quantize(Decimal(1).scaleb(-MAX_PLACES))
    return shortened if shortened == value else None


def _as_decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        return None
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _valid_quantity(index: int, raw: object) -> Decimal:
    field = f"items[{index}].quantity"
    quantity = _as_decimal(raw)
    if quantity is None or quantity <= 0:
        raise DomainError("quantity must be a number above 0", field=field, code="invalid-quantity")
    exact = _within_places(quantity) if quantity < MAX_QUANTITY else None
    if exact is None:
        raise DomainError(
            "quantity allows at most 4 decimal places and 10 integer digits",
            field=field,
            code="invalid-quantity",
        )
    return exact


def _valid_discount(index: int, raw: object) -> Decimal:
    field = f"items[{index}].discount_percent"
    discount = _as_decimal(raw)
    if discount is None or not ZERO <= discount <= HUNDRED:
        raise DomainError("discount must be within 0..100 %", field=field, code="invalid-discount")
    exact = _within_places(discount)
    if exact is None:
        raise DomainError(
            "discount allows at most 4 decimal places", field=field, code="invalid-discount"
        )
    return exact


def _check_id(value: object, what: str) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise ValueError(f"{what} id must be 1..{MAX_ID_LENGTH} characters: {value!r}")


def _config_decimal(raw: object, where: str) -> Decimal:
    if not isinstance(raw, str):
        raise ValueError(f"{where}: amounts are strings, got {raw!r}")
    number = _as_decimal(raw)
    exact = _within_places(number) if number is not None and number >= 0 else None
    if exact is None:
        raise ValueError(f"{where}: not a non-negative decimal with at most 4 places: {raw!r}")
    return exact
