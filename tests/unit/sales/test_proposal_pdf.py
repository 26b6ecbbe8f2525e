"""The proposal PDF: a real PDF whose (uncompressed) page text carries the customer, the
quote, its lines and totals, and survives Portuguese and Spanish text."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from contracts.registry import DomainEvent
from services.platform.decider import DomainError
from services.sales.adapters.proposal_pdf import ProposalTemplate, pdf_text, render_proposal
from services.sales.domain import quote as quotes
from services.sales.domain.pricing import Catalogue, QuoteItem

D = Decimal
QUOTE_ID = UUID("3b2f6c1e-8d4a-4f7b-9c2e-5a1d7e9f0b34")
CATALOGUE = Catalogue.load()
TEMPLATE = ProposalTemplate.load()
_SHOWN = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj")


def shown_text(pdf: bytes) -> str:
    """Every string an uncompressed content stream shows with Tj, one per line."""
    strings = [re.sub(rb"\\(.)", rb"\1", raw) for raw in _SHOWN.findall(pdf)]
    return "\n".join(s.decode("cp1252") for s in strings)


def quote_state(
    items: list[QuoteItem],
    price_list: str = "BRL-standard",
    customer: str = "cust-br-00042",
    valid_until: date | None = None,
    approve: bool = False,
) -> quotes.Quote:
    command = quotes.IssueQuote(
        quote_id=QUOTE_ID,
        customer_id=customer,
        price_list=price_list,
        items=items,
        catalogue=CATALOGUE,
        approval_threshold_percent=D(15),
        valid_until=valid_until,
    )
    history: list[DomainEvent] = list(quotes.decide(command, quotes.Quote()))
    if approve:
        approval = quotes.ApproveQuote(QUOTE_ID, "gerente-3")
        history += quotes.decide(approval, quotes.decider.fold(history))
    return quotes.decider.fold(history)


SEATS = [QuoteItem("CRM-SEAT", D(3), D(10))]


def test_renders_a_pdf_with_customer_quote_lines_and_total() -> None:
    pdf = render_proposal(quote_state(SEATS), "Padaria São Jorge Ltda.", compress=False)
    assert pdf.startswith(b"%PDF")
    text = shown_text(pdf)
    assert "Cliente: Padaria São Jorge Ltda." in text
    assert str(QUOTE_ID) in text and "versão 1" in text
    assert "Licença CRM — usuário/mês" in text
    # 3 x 149.90 - 10 % = 404.73 net, 37.44 tax, 442.17 total (Brazilian number format)
    for figure in ("149,90", "404,73", "37,44", "BRL 449,70", "BRL 44,97", "BRL 442,17"):
        assert figure in text.splitlines()
    assert TEMPLATE.company_name in text
    assert "30 dias a partir da data de emissão" in text  # default validity


def test_spanish_text_and_validity_date_render() -> None:
    state = quote_state(
        [QuoteItem("CRM-SEAT-ANNUAL", D(25), D(20))],
        price_list="ARS-standard",
        customer="cust-ar-20-12345678-6",
        valid_until=date(2025, 7, 31),
        approve=True,
    )
    pdf = render_proposal(state, "Panadería Ñandú S.R.L. — Córdoba", compress=False)
    text = shown_text(pdf)
    assert "Panadería Ñandú S.R.L. — Córdoba" in text
    assert "Válida até: 31/07/2025" in text
    # 25 x 350000 - 20 % = 7000000; tax 9.25 % = 647500
    assert "ARS 7.647.500,00" in text.splitlines()


def test_characters_outside_the_core_font_degrade_instead_of_failing() -> None:
    pdf = render_proposal(quote_state(SEATS), "Łódź Café ✓", compress=False)
    assert "?ódz Café ?" in shown_text(pdf)


def test_pdf_text_keeps_latin_accents_and_reduces_the_rest() -> None:
    assert pdf_text("ação ñandú — “ok”") == "ação ñandú — “ok”"
    assert pdf_text("Łódź ✓") == "?ódz ?"


def test_compressed_output_is_still_a_pdf_but_hides_the_text() -> None:
    pdf = render_proposal(quote_state(SEATS), "Padaria São Jorge Ltda.")
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    assert b"Padaria S" not in pdf


def test_a_quote_awaiting_approval_has_no_proposal() -> None:
    pending = quote_state([QuoteItem("CRM-SEAT", D(3), D(20))])
    with pytest.raises(DomainError) as caught:
        render_proposal(pending, "Padaria São Jorge Ltda.")
    assert caught.value.code == "approval-required"


def test_a_missing_quote_has_no_proposal() -> None:
    with pytest.raises(DomainError) as caught:
        render_proposal(quotes.Quote(), "Padaria São Jorge Ltda.")
    assert caught.value.code == "not-found"


def test_template_formats_money_the_brazilian_way() -> None:
    assert TEMPLATE.money(D("1234567.5"), "BRL") == "BRL 1.234.567,50"
    assert TEMPLATE.number(D("2.5000")) == "2,5"
    assert ProposalTemplate(company_name="X").money(D("1234.5"), "ARS") == "ARS 1,234.50"
