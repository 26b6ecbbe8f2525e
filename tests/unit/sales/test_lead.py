"""Given/when/then specs of the lead decider: captured, qualified or disqualified, then
converted to a customer. Pure: no store, no broker."""

from __future__ import annotations

from uuid import UUID

import pytest

from contracts.events.sales import (
    Address,
    LeadCaptured,
    LeadConverted,
    LeadDisqualified,
    LeadQualified,
)
from contracts.registry import DomainEvent
from services.sales.domain.lead import (
    CaptureLead,
    ConvertLead,
    DisqualifyLead,
    Lead,
    QualifyLead,
    decide,
    decider,
    stream_id,
)
from tests.unit.gwt import Spec

LEAD_ID = UUID("2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f")
CONTACT_ID = UUID("5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d")
ACCOUNT_ID = UUID("3e1d5c7a-9b2f-4c8e-a6d4-1f0e9d8c7b6a")
OPP_ID = UUID("6f1c2b9e-3a4d-4e5f-9a8b-7c6d5e4f3a21")
ADDRESS = Address(city="Porto Alegre", state="RS", country="BR")


given = Spec(decider).given


def captured(**overrides: object) -> LeadCaptured:
    fields: dict[str, object] = {
        "lead_id": LEAD_ID,
        "customer_id": str(LEAD_ID),
        "source": "web_form",
        "name": "Carlos Souza",
        "company": "Mercadinho Souza ME",
        "emails": ["carlos@mercadinhosouza.com.br"],
        "phones": ["+5551998765432"],
    }
    fields.update(overrides)
    return LeadCaptured(**fields)  # type: ignore[arg-type]


def qualified() -> LeadQualified:
    return LeadQualified(lead_id=LEAD_ID, customer_id=str(LEAD_ID), qualified_by="sdr-1")


def disqualified(reason: str = "sem orçamento este ano") -> LeadDisqualified:
    return LeadDisqualified(lead_id=LEAD_ID, customer_id=str(LEAD_ID), reason=reason)


def converted() -> LeadConverted:
    return LeadConverted(
        lead_id=LEAD_ID,
        customer_id=str(ACCOUNT_ID),
        lead_customer_id=str(LEAD_ID),
        account_id=ACCOUNT_ID,
        contact_id=CONTACT_ID,
    )


def capture(**overrides: object) -> CaptureLead:
    fields: dict[str, object] = {
        "lead_id": LEAD_ID,
        "source": "web_form",
        "name": "Carlos Souza",
        "company": "Mercadinho Souza ME",
        "emails": ("Carlos@MercadinhoSouza.com.br",),
        "phones": ("(51) 99876-5432",),
    }
    fields.update(overrides)
    return CaptureLead(**fields)  # type: ignore[arg-type]


def convert(**overrides: object) -> ConvertLead:
    fields: dict[str, object] = {
        "lead_id": LEAD_ID,
        "contact_id": CONTACT_ID,
        "customer_id": str(ACCOUNT_ID),
        "account_id": ACCOUNT_ID,
    }
    fields.update(overrides)
    return ConvertLead(**fields)  # type: ignore[arg-type]


# --- capturing -----------------------------------------------------------------------


def test_capturing_emits_lead_captured_with_normalised_contact_data() -> None:
    given().when(capture(address=ADDRESS, notes=" veio da feira ", owner_id="sdr-1")).then(
        captured(address=ADDRESS, notes="veio da feira", owner_id="sdr-1")
    )


def test_the_customer_id_of_a_lead_is_its_own_id() -> None:
    (event,) = decide(capture(), Lead())
    assert isinstance(event, LeadCaptured) and event.customer_id == str(LEAD_ID)


def test_an_argentine_lead_reads_its_phone_in_argentina() -> None:
    given().when(
        capture(
            source="event",
            name="Lucía Fernández",
            company=None,
            emails=(),
            phones=("011 15-2345-6789",),
            default_region="AR",
        )
    ).then(
        captured(
            source="event",
            name="Lucía Fernández",
            company=None,
            emails=[],
            phones=["+5491123456789"],
        )
    )


def test_a_blank_company_or_note_is_none() -> None:
    given().when(capture(company="  ", notes="")).then(captured(company=None))


def test_capturing_twice_is_refused_as_already_existing() -> None:
    given(captured()).when(capture()).then_raises(code="already-exists")


@pytest.mark.parametrize("name", ["", "   "])
def test_a_blank_name_is_refused_on_the_name_field(name: str) -> None:
    given().when(capture(name=name)).then_raises(field="name")


@pytest.mark.parametrize(
    ("field", "value"), [("name", "N" * 241), ("company", "C" * 301), ("notes", "n" * 5001)]
)
def test_text_longer_than_the_contract_allows_is_refused_on_its_field(
    field: str, value: str
) -> None:
    given().when(capture(**{field: value})).then_raises(field=field)


def test_an_unknown_source_is_refused_on_the_source_field() -> None:
    given().when(capture(source="cold_call")).then_raises(field="source")


def test_an_invalid_phone_is_refused_naming_its_position() -> None:
    given().when(capture(phones=("123",))).then_raises(field="phones[0]", code="invalid-phone")


def test_an_invalid_email_is_refused_naming_its_position() -> None:
    given().when(capture(emails=("a@b.com.br", "carlos at souza"))).then_raises(
        field="emails[1]", code="invalid-email"
    )


# --- qualifying ----------------------------------------------------------------------


def test_qualifying_a_captured_lead_emits_lead_qualified() -> None:
    given(captured()).when(QualifyLead(LEAD_ID, qualified_by="sdr-1", notes=" quer demo ")).then(
        LeadQualified(
            lead_id=LEAD_ID, customer_id=str(LEAD_ID), qualified_by="sdr-1", notes="quer demo"
        )
    )


def test_qualifying_twice_emits_nothing() -> None:
    given(captured(), qualified()).when(QualifyLead(LEAD_ID)).then()


def test_qualifying_an_unknown_lead_is_refused_as_not_found() -> None:
    given().when(QualifyLead(LEAD_ID)).then_raises(code="not-found")


def test_qualifying_a_disqualified_lead_is_refused() -> None:
    given(captured(), disqualified()).when(QualifyLead(LEAD_ID)).then_raises(code="disqualified")


def test_qualifying_a_converted_lead_is_refused() -> None:
    given(captured(), qualified(), converted()).when(QualifyLead(LEAD_ID)).then_raises(
        code="already-converted"
    )


# --- disqualifying -------------------------------------------------------------------


@pytest.mark.parametrize("history", [(captured(),), (captured(), qualified())])
def test_disqualifying_emits_lead_disqualified_with_the_reason(
    history: tuple[DomainEvent, ...],
) -> None:
    given(*history).when(DisqualifyLead(LEAD_ID, " sem orçamento este ano ")).then(disqualified())


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_disqualifying_without_a_reason_is_refused_on_the_reason_field(reason: str) -> None:
    given(captured()).when(DisqualifyLead(LEAD_ID, reason)).then_raises(field="reason")


def test_disqualifying_twice_emits_nothing() -> None:
    given(captured(), disqualified()).when(DisqualifyLead(LEAD_ID, "outro motivo")).then()


def test_disqualifying_a_converted_lead_is_refused() -> None:
    given(captured(), qualified(), converted()).when(
        DisqualifyLead(LEAD_ID, "desistiu")
    ).then_raises(code="already-converted")


def test_disqualifying_an_unknown_lead_is_refused_as_not_found() -> None:
    given().when(DisqualifyLead(LEAD_ID, "spam")).then_raises(code="not-found")


# --- converting ----------------------------------------------------------------------


def test_converting_a_qualified_lead_emits_lead_converted() -> None:
    given(captured(), qualified()).when(convert(opportunity_id=OPP_ID)).then(
        LeadConverted(
            lead_id=LEAD_ID,
            customer_id=str(ACCOUNT_ID),
            lead_customer_id=str(LEAD_ID),
            account_id=ACCOUNT_ID,
            contact_id=CONTACT_ID,
            opportunity_id=OPP_ID,
        )
    )


def test_converting_to_a_contact_without_an_account_is_allowed() -> None:
    given(captured(), qualified()).when(convert(customer_id=str(CONTACT_ID), account_id=None)).then(
        LeadConverted(
            lead_id=LEAD_ID,
            customer_id=str(CONTACT_ID),
            lead_customer_id=str(LEAD_ID),
            contact_id=CONTACT_ID,
        )
    )


def test_converting_a_captured_lead_is_refused_as_not_qualified() -> None:
    given(captured()).when(convert()).then_raises(field=None, code="not-qualified")


def test_converting_a_disqualified_lead_is_refused() -> None:
    given(captured(), disqualified()).when(convert()).then_raises(code="disqualified")


def test_converting_twice_is_refused_as_already_converted() -> None:
    given(captured(), qualified(), converted()).when(convert()).then_raises(
        code="already-converted"
    )


def test_converting_an_unknown_lead_is_refused_as_not_found() -> None:
    given().when(convert()).then_raises(code="not-found")


def test_converting_to_a_blank_customer_is_refused_on_the_customer_field() -> None:
    given(captured(), qualified()).when(convert(customer_id=" ")).then_raises(field="customer_id")


# --- evolve --------------------------------------------------------------------------


def test_initial_state_is_a_new_lead_that_does_not_exist() -> None:
    assert decider.fold([]) == Lead(exists=False, status="new")


def test_evolve_keeps_the_normalised_data_the_conversion_needs() -> None:
    assert decider.fold([captured(address=ADDRESS, owner_id="sdr-1")]) == Lead(
        exists=True,
        customer_id=str(LEAD_ID),
        status="captured",
        name="Carlos Souza",
        company="Mercadinho Souza ME",
        emails=("carlos@mercadinhosouza.com.br",),
        phones=("+5551998765432",),
        address=ADDRESS,
        owner_id="sdr-1",
        source="web_form",
    )


@pytest.mark.parametrize(
    ("history", "status"),
    [
        ((captured(), qualified()), "qualified"),
        ((captured(), disqualified()), "disqualified"),
        ((captured(), qualified(), disqualified()), "disqualified"),
        ((captured(), qualified(), converted()), "converted"),
    ],
)
def test_evolve_follows_the_status(history: tuple[DomainEvent, ...], status: str) -> None:
    state = decider.fold(history)
    assert state.status == status and state.name == "Carlos Souza"


def test_stream_id_names_the_lead() -> None:
    assert stream_id(LEAD_ID) == f"lead-{LEAD_ID}"
