"""Render the latest version of a quote as a proposal PDF (fpdf2, core fonts, no I/O).

Core PDF fonts use WinAnsiEncoding (cp1252), which covers Portuguese and Spanish
(ç, ã, õ, ñ, é, ¿, ¡) and typographic dashes and quotes; any other character is reduced to
its base letter (or "?") instead of failing the whole document.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from services.platform.decider import DomainError
from services.sales.domain.quote import Quote, can_send

PDF_ENCODING = "cp1252"
FONT = "Helvetica"

DEFAULT_LABELS: Mapping[str, str] = {
    "customer": "Customer",
    "quote": "Quote",
    "version": "version",
    "description": "Description",
    "quantity": "Qty",
    "unit_price": "Unit price",
    "discount": "Disc. %",
    "net": "Net",
    "tax": "Tax",
    "gross": "Gross",
    "discount_total": "Discounts",
    "net_total": "Net",
    "tax_total": "Tax",
    "total": "Total",
    "valid_until": "Valid until",
    "terms": "Terms",
}


@dataclass(frozen=True)
class ProposalTemplate:
    company_name: str
    company_lines: tuple[str, ...] = ()
    title: str = "Proposal"
    labels: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LABELS))
    decimal_separator: str = "."
    thousands_separator: str = ","
    date_format: str = "%Y-%m-%d"
    default_validity: str = ""
    terms: str = ""

    @classmethod
    def load(cls, path: Path | str | None = None) -> ProposalTemplate:
        """Read a template file; by default the one packaged with the sales service."""
        if path is None:
            packaged = resources.files("services.sales").joinpath("config/proposal_template.json")
            return cls.from_dict(json.loads(packaged.read_text(encoding="utf-8")))
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProposalTemplate:
        return cls(
            company_name=str(data["company_name"]),
            company_lines=tuple(str(line) for line in data.get("company_lines", ())),
            title=str(data.get("title", "Proposal")),
            labels={
                **DEFAULT_LABELS,
                **{str(k): str(v) for k, v in data.get("labels", {}).items()},
            },
            decimal_separator=str(data.get("decimal_separator", ".")),
            thousands_separator=str(data.get("thousands_separator", ",")),
            date_format=str(data.get("date_format", "%Y-%m-%d")),
            default_validity=str(data.get("default_validity", "")),
            terms=str(data.get("terms", "")),
        )

    def label(self, key: str) -> str:
        return self.labels.get(key, DEFAULT_LABELS[key])

    def number(self, value: Decimal, min_places: int = 0, max_places: int = 4) -> str:
        """``value`` with between ``min_places`` and ``max_places`` decimals, localised."""
        rounded = value.quantize(Decimal(1).scaleb(-max_places), rounding=ROUND_HALF_UP)
        places = max(min_places, _significant_places(rounded))
        text = f"{rounded:,.{places}f}"
        return (
            text.replace(",", "\0")
            .replace(".", self.decimal_separator)
            .replace("\0", self.thousands_separator)
        )

    def money(self, amount: Decimal, currency: str) -> str:
        return f"{currency} {self.number(amount, min_places=2, max_places=2)}"


def pdf_text(text: str) -> str:
    """``text`` restricted to what a core font can show (cp1252), degrading gracefully."""
    kept: list[str] = []
    for char in text:
        try:
            char.encode(PDF_ENCODING)
        except UnicodeEncodeError:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            try:
                base.encode(PDF_ENCODING)
            except UnicodeEncodeError:
                base = "?"
            kept.append(base or "?")
        else:
            kept.append(char)
    return "".join(kept)


def render_proposal(
    quote: Quote,
    customer_name: str,
    template: ProposalTemplate | None = None,
    *,
    compress: bool = True,
) -> bytes:
    """The proposal PDF of the quote's latest version; only a sendable quote has one.

    ``compress=False`` leaves the page content readable in the bytes (for tests).
    """
    if not quote.exists or quote.totals is None or quote.quote_id is None:
        raise DomainError("no such quote", code="not-found")
    if not can_send(quote):
        raise DomainError(
            f"version {quote.version} must be approved before it is sent",
            code="approval-required",
        )
    template = template or ProposalTemplate.load()
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.core_fonts_encoding = PDF_ENCODING
    pdf.set_compression(compress)
    pdf.set_title(pdf_text(f"{template.title} {quote.quote_id} v{quote.version}"))
    pdf.set_author(pdf_text(template.company_name))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()

    def line(text: str, size: float, style: str = "", height: float = 5) -> None:
        pdf.set_font(FONT, style=style, size=size)
        pdf.multi_cell(0, height, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(template.company_name, 16, "B", 8)
    for company_line in template.company_lines:
        line(company_line, 9, height=4.5)
    pdf.ln(6)
    line(template.title, 14, "B", 7)
    line(f"{template.label('customer')}: {customer_name}", 11, height=6)
    line(
        f"{template.label('quote')} {quote.quote_id} — {template.label('version')} {quote.version}",
        10,
    )
    pdf.ln(4)

    _lines_table(pdf, quote, template)
    pdf.ln(4)
    _totals(pdf, quote, template)
    pdf.ln(6)

    validity = (
        quote.valid_until.strftime(template.date_format)
        if quote.valid_until is not None
        else template.default_validity
    )
    if validity:
        line(f"{template.label('valid_until')}: {validity}", 10, "B")
        pdf.ln(2)
    if template.terms:
        line(template.label("terms"), 10, "B")
        line(template.terms, 9, height=4.5)
    return bytes(pdf.output())


def _lines_table(pdf: FPDF, quote: Quote, template: ProposalTemplate) -> None:
    pdf.set_font(FONT, size=9)
    right = Align.R
    with pdf.table(
        col_widths=(62, 16, 26, 16, 30, 30),
        text_align=(Align.L, right, right, right, right, right),
        line_height=5,
        first_row_as_headings=True,
    ) as table:
        heading = table.row()
        for key in ("description", "quantity", "unit_price", "discount", "net", "tax"):
            heading.cell(pdf_text(template.label(key)))
        for quote_line in quote.lines:
            row = table.row()
            row.cell(pdf_text(quote_line.description))
            row.cell(template.number(quote_line.quantity))
            row.cell(template.number(quote_line.unit_price.amount, min_places=2))
            row.cell(template.number(quote_line.discount_percent))
            row.cell(template.number(quote_line.net_amount.amount, min_places=2, max_places=2))
            row.cell(template.number(quote_line.tax_amount.amount, min_places=2, max_places=2))


def _totals(pdf: FPDF, quote: Quote, template: ProposalTemplate) -> None:
    assert quote.totals is not None
    totals = quote.totals
    rows = [
        ("gross", totals.gross.amount, ""),
        ("discount_total", totals.discount.amount, ""),
        ("net_total", totals.net.amount, ""),
        ("tax_total", totals.tax.amount, ""),
        ("total", totals.total.amount, "B"),
    ]
    for key, amount, style in rows:
        pdf.set_font(FONT, style=style, size=11 if style else 10)
        pdf.cell(130, 6, pdf_text(template.label(key)), align=Align.R)
        pdf.cell(
            0,
            6,
            pdf_text(template.money(amount, quote.currency)),
            align=Align.R,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )


def _significant_places(value: Decimal) -> int:
    normalized = value.normalize()
    exponent = normalized.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
