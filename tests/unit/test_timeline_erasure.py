"""An erased timeline entry: its payload and the lines derived from it, as a rebuild
derives them from the event read erased."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson

from contracts.events.sales import ActivityLogged, ContactRegistered, RelatedTo, TaxId
from contracts.personal import erase
from projections.timeline.erasure import _erase, erased_columns

AT = datetime(2025, 5, 2, 14, 30, tzinfo=UTC)
DEAL = uuid.UUID("9d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09")


def test_a_contact_entry_forgets_the_name_and_contact_details():
    contact = ContactRegistered(
        contact_id=uuid.uuid4(), customer_id="c-1", first_name="Rita", last_name="Moura",
        job_title="Buyer", tax_id=TaxId(scheme="cpf", number="52998224725", country="BR"),
        phones=["+5521988887777"], emails=["rita@moura.com"], owner_id="rep-3",
    )  # fmt: skip
    payload, summary, links, actor, channel = erased_columns(
        contact.event_type, contact.model_dump(mode="json")
    )
    assert summary == "Contact registered: [erased] [erased], [erased]"
    erased = orjson.loads(payload)
    assert (erased["first_name"], erased["last_name"]) == ("[erased]", "[erased]")
    assert (erased["tax_id"], erased["phones"], erased["emails"]) == (None, [], [])
    assert (erased["owner_id"], actor, channel) == ("rep-3", "rep-3", "sales")
    assert orjson.loads(links) == {"contact_id": str(contact.contact_id)}
    for trace in ("Rita", "Moura", "52998224725", "5521988887777", "rita@"):
        assert trace not in payload and trace not in summary


def test_an_activity_keeps_its_kind_duration_and_deal_but_not_its_words():
    call = ActivityLogged(
        activity_id=uuid.uuid4(), customer_id="c-1", kind="call", subject="Rita's renewal",
        outcome="Rita agreed", duration_minutes=12, happened_at=AT, actor_id="rep-3",
        related=RelatedTo(opportunity_id=DEAL),
    )  # fmt: skip
    _, summary, links, actor, channel = erased_columns(
        call.event_type, call.model_dump(mode="json")
    )
    assert summary == "Call: [erased] (12 min), outcome: [erased]"
    assert orjson.loads(links)["opportunity_id"] == str(DEAL)
    assert (actor, channel) == ("rep-3", "call")


def test_erasing_an_erased_entry_changes_nothing():
    call = ActivityLogged(activity_id=uuid.uuid4(), customer_id="c-1", kind="email",
                          subject="Hello", happened_at=AT)  # fmt: skip
    once = erased_columns(call.event_type, call.model_dump(mode="json"))
    assert erased_columns(call.event_type, orjson.loads(once[0])) == once


def test_the_cached_erasure_reads_as_the_contracts_erase():
    contact = ContactRegistered(contact_id=uuid.uuid4(), customer_id="c-1", first_name="Rita",
                                phones=["+5521988887777"])  # fmt: skip
    data = contact.model_dump(mode="json")
    assert _erase(ContactRegistered, data) == erase(ContactRegistered, data)
