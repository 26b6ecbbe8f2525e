"""The erasure mask: an erased profile forgets every personal value, and masking the
profile of plain events gives the profile a rebuild folds from events read erased."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from contracts.events.privacy import PersonalDataErased
from contracts.events.sales import (
    AccountRegistered,
    ActivityLogged,
    Address,
    ContactRegistered,
    LeadCaptured,
    OpportunityOpened,
    PurchaseMade,
    TaxId,
)
from contracts.events.support import ComplaintFiled
from contracts.money import Money
from contracts.personal import erase
from contracts.registry import DomainEvent
from projections.customer360.erasure import affected_by, evolve_masked, fold_masked
from projections.customer360.profile import fold

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ACCOUNT = uuid.UUID("6a0c9a77-5d1e-4b7e-9a51-2f3c4d5e6f70")
CUST = str(ACCOUNT)
DEAL = uuid.UUID("0b6f8e2a-1c3d-4e5f-8a9b-7c6d5e4f3a2b")


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def history() -> list[tuple[DomainEvent, datetime]]:
    return [
        (LeadCaptured(lead_id=uuid.uuid4(), customer_id=CUST, source="web_form",
                      name="Joana Prado", company=None, emails=["joana@prado.com.br"],
                      phones=["+5511955554444"], address=Address(city="Campinas", state="SP",
                      country="BR")), at(0)),
        (AccountRegistered(account_id=ACCOUNT, customer_id=CUST, name="Prado Tecidos Ltda",
                           kind="company",
                           tax_id=TaxId(scheme="cnpj", number="11222333000181", country="BR"),
                           phones=["+551133334444"], emails=["compras@prado.com.br"],
                           address=Address(city="Sorocaba", state="SP", country="BR")), at(1)),
        (ContactRegistered(contact_id=uuid.uuid4(), customer_id=CUST, account_id=ACCOUNT,
                           first_name="Joana", last_name="Prado"), at(1)),
        (OpportunityOpened(opportunity_id=DEAL, customer_id=CUST, title="Uniformes Prado",
                           amount=Money(amount=Decimal("900"), currency="BRL")), at(2)),
        (ActivityLogged(activity_id=uuid.uuid4(), customer_id=CUST, kind="call",
                        subject="Falou com Joana", happened_at=at(3)), at(3)),
        (PurchaseMade(order_id=uuid.uuid4(), customer_id=CUST, channel="web",
                     total=Money(amount=Decimal("120"), currency="BRL")), at(4)),
        (ComplaintFiled(case_id=uuid.uuid4(), customer_id=CUST, channel="email",
                        subject="Atraso da Joana", description="Ligar para +5511955554444"),
         at(5)),
    ]  # fmt: skip


def erasure(erased_at: datetime) -> PersonalDataErased:
    return PersonalDataErased(request_id=uuid.uuid4(), customer_id=CUST,
                              requested_by="dpo-1", erased_at=erased_at)  # fmt: skip


def read_erased(event: DomainEvent) -> DomainEvent:
    """``event`` as a reader opens it once its subject's key is destroyed."""
    cls = type(event)
    return cls.model_validate(erase(cls, event.model_dump(mode="json")))


def test_an_erased_profile_keeps_no_personal_value_and_says_it_was_erased():
    plain = fold(history())
    assert plain is not None and plain.display_name == "Prado Tecidos Ltda"
    erased = evolve_masked(plain, erasure(at(10)), at(10))
    assert erased.erased and erased.erased_at == at(10)
    assert erased.display_name == "[erased]"
    assert (erased.company_name, erased.address) == (None, None)
    assert erased.person_names == erased.phones == erased.emails == []
    assert erased.tax_ids == erased.addresses == []
    assert erased.last_interaction_summary == "[erased]"
    assert erased.other_interaction_summary == "[erased]"
    assert erased.open_opportunities[str(DEAL)].title == "[erased]"
    for word in ("Joana", "Prado", "Sorocaba", "Campinas", "11222333000181", "5511955554444"):
        assert word.lower() not in erased.model_dump_json().lower()
    # What is no one's personal data stays: the order, its value, the stage, the deal.
    assert erased.lifetime_value == {"BRL": Decimal("120")}
    assert (erased.lifecycle, erased.open_complaints) == ("at_risk", 1)
    assert erased.open_opportunities[str(DEAL)].amount == Money(amount=Decimal("900"),
                                                                currency="BRL")  # fmt: skip


def test_erasing_after_the_fact_equals_a_rebuild_reading_every_event_erased():
    events, erased = history(), erasure(at(10))
    live = fold_masked([*events, (erased, at(10))])
    read_after_key_destroyed = [(read_erased(e), t) for e, t in events]
    rebuilt_after = fold_masked([*read_after_key_destroyed, (erased, at(10))])
    # On another topic, the erasure may be read before the subject's other events.
    rebuilt_before = fold_masked([(erased, at(10)), *read_after_key_destroyed])
    assert live is not None and live.erased
    assert live == rebuilt_after == rebuilt_before


def test_events_after_the_erasure_are_masked_too():
    lead, account = history()[:2]
    later = fold_masked([lead, (erasure(at(1)), at(1)), (read_erased(account[0]), at(2))])
    assert later is not None
    assert later.display_name == "[erased]" and later.kind == "account"
    assert later.erased_at == at(1) and later.phones == [] and later.company_name is None


def test_the_first_of_two_erasures_dates_the_profile():
    twice = fold_masked([(erasure(at(9)), at(9)), (erasure(at(3)), at(3))])
    assert twice is not None and twice.erased_at == at(3)


def test_an_erasure_concerns_its_subject_and_the_records_erased_with_it():
    event = erasure(at(1)).model_copy(update={"also_erased": ["lead-9", CUST]})
    assert affected_by(event) == sorted([CUST, "lead-9"])
