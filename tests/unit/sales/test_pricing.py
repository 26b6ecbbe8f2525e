"""Pricing: catalogue, price lists and the rounding rule (2 places, ROUND_HALF_UP, per line;
totals are sums of rounded lines). Expected figures are worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events.sales import QuoteLine, QuoteTotals
from contracts.money import Money
from services.platform.decider import DomainError
from services.sales.domain.pricing import Catalogue, QuoteItem

D = Decimal
CATALOGUE = Catalogue.load()


def brl(amount: str) -> Money:
    return Money(amount=D(amount), currency="BRL")


def small_catalogue(**prices: str) -> Catalogue:
    """A catalogue of products named after ``prices``' keys, 10 % tax, BRL only."""
    return Catalogue.from_dict(
        {
            "price_lists": {"BRL-test": {"currency": "BRL"}},
            "products": [
                {"id": pid, "name": pid, "tax_percent": "10", "prices": {"BRL-test": price}}
                for pid, price in prices.items()
            ],
        }
    )


# --- the packaged catalogue ------------------------------------------------------------


def test_packaged_catalogue_has_brl_and_ars_price_lists() -> None:
    assert CATALOGUE.currency("BRL-standard") == "BRL"
    assert CATALOGUE.currency("ARS-standard") == "ARS"


def test_packaged_catalogue_prices_crm_seat_as_documented() -> None:
    seat = CATALOGUE.products["CRM-SEAT"]
    assert seat.tax_percent == D("9.25")
    assert seat.prices == {"BRL-standard": D("149.90"), "ARS-standard": D("35000.00")}
    assert 5 <= len(CATALOGUE.products) <= 6


# --- arithmetic ------------------------------------------------------------------------


def test_three_seats_with_ten_percent_discount_and_9_25_percent_tax() -> None:
    # 3 x 149.90 = 449.70; x 0.90 = 404.73; tax 404.73 x 9.25 % = 37.437525 -> 37.44
    lines, totals, max_discount = CATALOGUE.price(
        "BRL-standard", [QuoteItem("CRM-SEAT", D(3), D(10))]
    )
    assert lines == [
        QuoteLine(
            product_id="CRM-SEAT",
            description=CATALOGUE.products["CRM-SEAT"].name,
            quantity=D(3),
            unit_price=brl("149.90"),
            discount_percent=D(10),
            tax_percent=D("9.25"),
            net_amount=brl("404.73"),
            tax_amount=brl("37.44"),
        )
    ]
    assert totals == QuoteTotals(
        gross=brl("449.70"),
        discount=brl("44.97"),
        net=brl("404.73"),
        tax=brl("37.44"),
        total=brl("442.17"),
    )
    assert max_discount == D(10)


def test_several_lines_in_ars_add_up_line_by_line() -> None:
    # CRM-SEAT-ANNUAL: 25 x 350000 = 8750000; -20 % = 7000000; tax 9.25 % = 647500
    # SUPPORT-PREMIUM: 12 x 230000 = 2760000; tax 9.25 % = 255300
    lines, totals, max_discount = CATALOGUE.price(
        "ARS-standard",
        [QuoteItem("CRM-SEAT-ANNUAL", D(25), D(20)), QuoteItem("SUPPORT-PREMIUM", D(12))],
    )
    ars = {k: Money(amount=D(v), currency="ARS") for k, v in {
        "gross": "11510000.00", "discount": "1750000.00", "net": "9760000.00",
        "tax": "902800.00", "total": "10662800.00",
    }.items()}  # fmt: skip
    assert totals == QuoteTotals(**ars)
    assert [line.net_amount.amount for line in lines] == [D("7000000.00"), D("2760000.00")]
    assert [line.tax_amount.amount for line in lines] == [D("647500.00"), D("255300.00")]
    assert max_discount == D(20)


def test_net_rounds_half_up_not_half_even() -> None:
    # 10.05 x 50 % = 5.025 -> 5.03 (half-even would give 5.02); tax 0.503 -> 0.50
    lines, totals, _ = small_catalogue(P="10.05").price("BRL-test", [QuoteItem("P", D(1), D(50))])
    assert lines[0].net_amount == brl("5.03")
    assert lines[0].tax_amount == brl("0.50")
    assert totals.discount == brl("5.02")  # gross 10.05 - net 5.03


def test_tax_rounds_half_up() -> None:
    # net 0.25, tax 10 % = 0.025 -> 0.03
    lines, totals, _ = small_catalogue(P="0.25").price("BRL-test", [QuoteItem("P", D(1))])
    assert lines[0].tax_amount == brl("0.03")
    assert totals.total == brl("0.28")


def test_totals_are_sums_of_rounded_lines_not_rounded_sums() -> None:
    # each line 1 x 0.005 = 0.005 -> 0.01; the sum of unrounded lines (0.010) would be 0.01
    _, totals, _ = small_catalogue(A="0.005", B="0.005").price(
        "BRL-test", [QuoteItem("A", D(1)), QuoteItem("B", D(1))]
    )
    assert totals.net == brl("0.02")
    assert totals.gross == brl("0.02")


def test_fractional_quantity_is_priced_exactly() -> None:
    # 2.5 x 149.90 = 374.75; tax 9.25 % = 34.664375 -> 34.66
    lines, totals, _ = CATALOGUE.price("BRL-standard", [QuoteItem("CRM-SEAT", D("2.5"))])
    assert lines[0].net_amount == brl("374.75")
    assert totals.total == brl("409.41")


def test_full_discount_gives_a_zero_line() -> None:
    lines, totals, max_discount = CATALOGUE.price(
        "BRL-standard", [QuoteItem("ONBOARDING", D(1), D(100))]
    )
    assert lines[0].net_amount == brl("0.00")
    assert totals.total == brl("0.00")
    assert totals.discount == brl("8900.00")
    assert max_discount == D(100)


def test_max_discount_is_the_highest_line_discount() -> None:
    _, _, max_discount = CATALOGUE.price(
        "BRL-standard",
        [
            QuoteItem("CRM-SEAT", D(1), D("7.5")),
            QuoteItem("ONBOARDING", D(1), D("22.25")),
            QuoteItem("SUPPORT-PREMIUM", D(1)),
        ],
    )
    assert max_discount == D("22.25")


def test_trailing_zeros_beyond_four_places_are_accepted() -> None:
    lines, _, _ = CATALOGUE.price("BRL-standard", [QuoteItem("CRM-SEAT", D("2.000000"))])
    assert lines[0].quantity == D(2)
    assert lines[0].net_amount == brl("299.80")


# --- refusals --------------------------------------------------------------------------


def _refusal(price_list: str, items: list[QuoteItem]) -> DomainError:
    with pytest.raises(DomainError) as caught:
        CATALOGUE.price(price_list, items)
    return caught.value


def test_unknown_price_list_is_refused() -> None:
    error = _refusal("EUR-standard", [QuoteItem("CRM-SEAT", D(1))])
    assert (error.field, error.code) == ("price_list", "unknown-price-list")


def test_unknown_product_names_the_item() -> None:
    error = _refusal("BRL-standard", [QuoteItem("CRM-SEAT", D(1)), QuoteItem("NOPE", D(1))])
    assert (error.field, error.code) == ("items[1].product_id", "unknown-product")


def test_product_without_a_price_in_the_list_is_refused() -> None:
    error = _refusal("ARS-standard", [QuoteItem("POS-TERMINAL", D(1))])
    assert (error.field, error.code) == ("items[0].product_id", "not-in-price-list")


def test_no_items_is_refused() -> None:
    error = _refusal("BRL-standard", [])
    assert (error.field, error.code) == ("items", "no-items")


@pytest.mark.parametrize(
    "quantity", [D(0), D("-1"), D("-0.0001"), D("NaN"), D("Infinity"), D("1.00001"), D("1e10")]
)
def test_invalid_quantity_is_refused(quantity: Decimal) -> None:
    error = _refusal("BRL-standard", [QuoteItem("CRM-SEAT", D(1)), QuoteItem("CRM-SEAT", quantity)])
    assert (error.field, error.code) == ("items[1].quantity", "invalid-quantity")


@pytest.mark.parametrize("discount", [D("-0.01"), D("100.01"), D("NaN"), D("12.00001")])
def test_discount_outside_0_to_100_is_refused(discount: Decimal) -> None:
    error = _refusal("BRL-standard", [QuoteItem("CRM-SEAT", D(1), discount)])
    assert (error.field, error.code) == ("items[0].discount_percent", "invalid-discount")


def test_an_amount_beyond_the_money_contract_is_refused_not_a_validation_error() -> None:
    error = _refusal("ARS-standard", [QuoteItem("CRM-SEAT-ANNUAL", D("9999999999"))])
    assert error.code == "too-large"


# --- loading ---------------------------------------------------------------------------


def _catalogue_dict(**product: Any) -> dict[str, Any]:
    spec = {"id": "X", "name": "X", "tax_percent": "10", "prices": {"BRL-test": "1.00"}}
    spec.update(product)
    return {"price_lists": {"BRL-test": {"currency": "BRL"}}, "products": [spec]}


@pytest.mark.parametrize(
    "bad",
    [
        {"prices": {"BRL-test": 1.0}},  # float amount
        {"prices": {"BRL-test": "-1.00"}},
        {"prices": {"USD-test": "1.00"}},  # unknown price list
        {"tax_percent": "101"},
        {"name": " "},
    ],
)
def test_malformed_catalogue_is_a_value_error(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Catalogue.from_dict(_catalogue_dict(**bad))


def test_unknown_currency_in_a_price_list_is_a_value_error() -> None:
    data = _catalogue_dict()
    data["price_lists"]["BRL-test"]["currency"] = "XYZ"
    with pytest.raises(ValueError):
        Catalogue.from_dict(data)


# --- property --------------------------------------------------------------------------

PRODUCTS = sorted(CATALOGUE.products)


def _decimal(max_value: int, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=0, max_value=max_value, places=places, allow_nan=False, allow_infinity=False
    )


items_strategy = st.lists(
    st.builds(
        QuoteItem,
        product_id=st.sampled_from(PRODUCTS),
        quantity=_decimal(100_000, 4).filter(lambda q: q > 0),
        discount_percent=_decimal(100, 4),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(items=items_strategy)
def test_totals_always_add_up(items: list[QuoteItem]) -> None:
    lines, totals, max_discount = CATALOGUE.price("BRL-standard", items)
    assert totals.total.amount == totals.net.amount + totals.tax.amount
    assert totals.net.amount == totals.gross.amount - totals.discount.amount
    assert totals.net.amount == sum(line.net_amount.amount for line in lines)
    assert totals.tax.amount == sum(line.tax_amount.amount for line in lines)
    assert totals.discount.amount >= 0
    assert max_discount == max(item.discount_percent for item in items)
    for money in (totals.gross, totals.discount, totals.net, totals.tax, totals.total):
        assert money.currency == "BRL"
        assert money.amount == money.amount.quantize(D("0.01"))
