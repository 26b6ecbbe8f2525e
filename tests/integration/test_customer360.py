"""Customer 360 against real PostgreSQL (and Kafka): projection, then identification."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from contracts.envelope import partition_key
from contracts.events.sales import (
    AccountRegistered,
    Address,
    ContactRegistered,
    LeadCaptured,
    LeadConverted,
    OrderDelivered,
    OrderLine,
    OrderPlaced,
    PurchaseMade,
    RecordsMerged,
    TaxId,
)
from contracts.events.support import ComplaintFiled
from contracts.money import Money
from contracts.registry import DomainEvent
from projections.customer360.projector import SCHEMA_SQL, project, project_batch
from projections.customer360.queries import (
    _CORRECT,
    build_search_query,
    get_profile,
    known_words,
    search,
)
from services.platform.consumer import INBOX_SQL, EventConsumer, run_consumers
from services.platform.db import apply_sql
from services.platform.kafka import make_producer
from services.platform.privacy.data_keys import data_keys_from_environment
from tests.projection_helpers import cloud_event, consumed, one_by_one_and_batched

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


async def apply(pool: Any, *events: tuple[DomainEvent, datetime]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for event, time in events:
            await project(conn, consumed(event, time))


def brl(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="BRL")


def an_account(name: str, **fields: Any) -> AccountRegistered:
    account_id = uuid.uuid4()
    return AccountRegistered(
        account_id=account_id, customer_id=str(account_id), name=name, **fields
    )


def a_contact(first: str, last: str, **fields: Any) -> ContactRegistered:
    contact_id = uuid.uuid4()
    return ContactRegistered(
        contact_id=contact_id, customer_id=str(contact_id), first_name=first, last_name=last,
        **fields,
    )  # fmt: skip


@pytest.fixture
async def directory(schema: str, pool_factory: Any) -> Any:
    """A handful of customers that look alike, so every search has something to reject."""
    pool = await pool_factory(schema, SCHEMA_SQL)
    jose = a_contact(
        "José", "da Silva",
        phones=["+5511912345678"],
        emails=["jose.silva@example.com.br"],
        address=Address(city="Campinas", state="SP", country="BR"),
    )  # fmt: skip
    josefa = a_contact(
        "Josefa", "Santos",
        phones=["+5511912340000"],
        address=Address(city="Recife", state="PE", country="BR"),
    )  # fmt: skip
    maria = a_contact("Maria", "Silveira", emails=["maria@example.com.br"])
    acme = an_account(
        "Acme Indústria e Comércio Ltda",
        tax_id=TaxId(scheme="cnpj", number="11222333000181", country="BR"),
        phones=["+551133334444"],
        address=Address(city="São Paulo", state="SP", country="BR"),
    )  # fmt: skip
    gaucho = an_account(
        "Distribuidora Gaúcho",
        tax_id=TaxId(scheme="cuit", number="20123456786", country="AR"),
        phones=["+541143215678"],
        address=Address(city="Córdoba", state="Córdoba", country="AR"),
    )  # fmt: skip
    await apply(pool, *[(e, T0) for e in (jose, josefa, maria, acme, gaucho)])
    ids = {
        "jose": jose.customer_id,
        "josefa": josefa.customer_id,
        "maria": maria.customer_id,
        "acme": acme.customer_id,
        "gaucho": gaucho.customer_id,
    }
    return pool, ids


async def found(pool: Any, text: str) -> list[str]:
    async with pool.acquire() as conn:
        return [row["customer_id"] for row in await search(conn, text)]


async def test_person_name_without_accents_and_middle_words(directory: Any) -> None:
    pool, ids = directory
    hits = await found(pool, "jose silva")
    assert hits[0] == ids["jose"]
    assert ids["acme"] not in hits and ids["gaucho"] not in hits
    assert (await found(pool, "JOSÉ DA SILVA"))[0] == ids["jose"]


async def test_phone_in_any_format(directory: Any) -> None:
    pool, ids = directory
    for typed in ("(11) 91234-5678", "+55 11 91234-5678", "11912345678", "91234-5678"):
        assert await found(pool, typed) == [ids["jose"]], typed
    # the Argentine number typed nationally (read with region AR)
    assert await found(pool, "011 4321-5678") == [ids["gaucho"]]


async def test_tax_id_with_and_without_punctuation(directory: Any) -> None:
    pool, ids = directory
    assert await found(pool, "11.222.333/0001-81") == [ids["acme"]]
    assert await found(pool, "11222333000181") == [ids["acme"]]
    assert await found(pool, "20-12345678-6") == [ids["gaucho"]]
    assert await found(pool, "11.222.333/0001-99") == []


async def test_company_partial_name_city_and_email(directory: Any) -> None:
    pool, ids = directory
    assert (await found(pool, "acme"))[0] == ids["acme"]
    assert (await found(pool, "industria acme"))[0] == ids["acme"]
    assert (await found(pool, "gaucho"))[0] == ids["gaucho"]
    assert set(await found(pool, "cordoba")) == {ids["gaucho"]}
    assert set(await found(pool, "sao paulo")) == {ids["acme"]}
    assert await found(pool, "maria@example.com.br") == [ids["maria"]]
    assert (await found(pool, "jose.silva@example"))[0] == ids["jose"]


async def test_search_returns_the_summary_columns(directory: Any) -> None:
    pool, ids = directory
    async with pool.acquire() as conn:
        [row] = await search(conn, "11222333000181")
    assert row["customer_id"] == ids["acme"]
    assert row["display_name"] == "Acme Indústria e Comércio Ltda"
    assert row["company_name"] == "Acme Indústria e Comércio Ltda"
    assert (row["city"], row["state"], row["lifecycle"]) == ("São Paulo", "SP", "new_customer")
    assert row["score"] > 1


async def test_merged_profile_is_not_returned_its_survivor_is(directory: Any) -> None:
    pool, ids = directory
    duplicate = a_contact("José", "Silva", phones=["+5519998887766"])
    await apply(pool, (duplicate, T0))
    assert set(await found(pool, "jose silva")) >= {ids["jose"], duplicate.customer_id}
    merge = RecordsMerged(
        kind="contact",
        survivor_id=uuid.UUID(ids["jose"]),
        merged_id=duplicate.contact_id,
        customer_id=ids["jose"],
        merged_customer_id=duplicate.customer_id,
    )
    await apply(pool, (merge, T0 + timedelta(hours=1)))
    assert duplicate.customer_id not in await found(pool, "jose silva")
    # the merged record's own phone still identifies the customer: its survivor
    assert await found(pool, "(19) 99888-7766") == [ids["jose"]]
    async with pool.acquire() as conn:
        merged = await get_profile(conn, duplicate.customer_id)
        survivor = await get_profile(conn, ids["jose"])
    assert merged is not None and merged["merged_into"] == ids["jose"]
    assert survivor is not None and survivor["merged_from"] == [duplicate.customer_id]


async def test_profile_row_follows_orders_and_complaints(directory: Any) -> None:
    pool, ids = directory
    customer = ids["acme"]
    order = uuid.uuid4()
    await apply(
        pool,
        (
            OrderPlaced(
                order_id=order,
                customer_id=customer,
                lines=[OrderLine(product_id="p", quantity=Decimal(2), line_total=brl("99.90"))],
                total=brl("99.90"),
            ),
            T0 + timedelta(days=1),
        ),
        (OrderDelivered(order_id=order, customer_id=customer), T0 + timedelta(days=3)),
    )
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT lifecycle, lifetime_value::text, updated_at, tax_numbers, phones_digits "
            "FROM customer_profiles WHERE customer_id = $1",
            customer,
        )
        profile = await get_profile(conn, customer)
    assert row["lifecycle"] == "first_order_delivered"
    assert row["lifetime_value"] == '{"BRL": "99.90"}'
    assert row["updated_at"] == T0 + timedelta(days=3)
    assert row["tax_numbers"] == ["11222333000181"]
    assert row["phones_digits"] == ["551133334444"]
    assert profile is not None and profile["orders"][str(order)]["status"] == "delivered"
    complaint = ComplaintFiled(case_id=uuid.uuid4(), customer_id=customer, subject="Atraso")
    await apply(pool, (complaint, T0 + timedelta(days=4)))
    async with pool.acquire() as conn:
        profile = await get_profile(conn, customer)
    assert profile is not None
    assert (profile["lifecycle"], profile["open_complaints"]) == ("at_risk", 1)


async def test_events_naming_no_customer_are_skipped(schema: str, pool_factory: Any) -> None:
    pool = await pool_factory(schema, SCHEMA_SQL)
    lead_id = uuid.uuid4()
    lead = LeadCaptured(lead_id=lead_id, customer_id=str(lead_id), source="event", name="Zé")
    envelope = cloud_event(lead, T0).model_copy(update={"customerid": None})
    event = consumed(lead, T0)
    async with pool.acquire() as conn, conn.transaction():
        await project(conn, type(event)(envelope, event.event, event.record))
        # the event's own customer id is used when the envelope has none
        assert await conn.fetchval("SELECT count(*) FROM customer_profiles") == 1


async def test_schema_sql_is_idempotent_and_search_uses_the_indexes(
    schema: str, pool_factory: Any
) -> None:
    """The very queries search runs, explained: every phase starts from an index."""
    pool = await pool_factory(schema, SCHEMA_SQL)
    await apply_sql(pool, schema, [SCHEMA_SQL, SCHEMA_SQL])
    cases: list[tuple[str, Any, list[str], frozenset[str]]] = [
        ("jose silva", None, ["text_words"], frozenset({"jose", "silva"})),
        ("silv", None, ["search_norm_trgm"], frozenset()),
        ("11.222.333/0001-81", None, ["customer_profiles_tax", "phone_tails"], frozenset()),
        ("(11) 91234-5678", None, ["customer_profiles_phones", "phone_tails"], frozenset()),
        ("maria@example.com.br", None, ["customer_profiles_emails"], frozenset()),
        ("jose slva", [["silva", "silveira"], ["jose"]], ["search_norm_trgm"], frozenset()),
    ]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        for text, corrections, indexes, known in cases:
            sql, params = build_search_query(text, 20, corrections=corrections, known=known)
            plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {sql}", *params))
            for index in indexes:
                assert index in plan, (text, plan)
        plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {_CORRECT}", ["slva"]))
        assert "search_words_trgm" in plan, plan


async def test_whole_words_and_parts_of_words(directory: Any) -> None:
    pool, ids = directory
    async with pool.acquire() as conn:
        assert await known_words(conn, "José SILVA silv 123") == {"José", "SILVA"}
    # a whole known word matches whole words; a part of a word matches as a part
    # the whole word first; Silveira, a near word, only after it
    assert await found(pool, "silva") == [ids["jose"], ids["maria"]]
    assert set(await found(pool, "silv")) == {ids["jose"], ids["maria"]}
    assert (await found(pool, "josefa"))[0] == ids["josefa"]


async def test_typos_in_names_companies_and_places_are_corrected(directory: Any) -> None:
    pool, ids = directory
    assert (await found(pool, "jose slva"))[0] == ids["jose"]
    assert (await found(pool, "Josefa Santso"))[0] == ids["josefa"]
    assert (await found(pool, "distribuidra gaucho"))[0] == ids["gaucho"]
    assert set(await found(pool, "resife")) == {ids["josefa"]}
    # digits are never "corrected": a typed number is looked for as typed
    assert await found(pool, "acme 4444 9999") == []
    # nothing near any known word: nothing found, rather than everyone
    assert await found(pool, "xyzzy") == []


async def test_sales_and_external_topics_land_in_one_profile(
    infra: Any, schema: str, pool_factory: Any, topic_factory: Any
) -> None:
    """Through the real consumer runtime: a sales registration and a shop purchase."""
    pool = await pool_factory(schema, INBOX_SQL, SCHEMA_SQL)
    sales, external = await topic_factory("sales"), await topic_factory("external")
    dlt = await topic_factory("dlt")
    account = an_account("Loja Ñandú", phones=["+541143215678"])
    customer = account.customer_id
    shop_order = uuid.uuid4()
    purchase = PurchaseMade(
        order_id=shop_order, customer_id=customer, total=brl("42.00"), channel="shop"
    )
    producer = make_producer(infra.kafka_bootstrap)
    await producer.start()
    try:
        # the shop's purchase is published first, the registration after: cross-topic order
        # is not guaranteed, and the profile must not depend on it
        for topic, envelope in (
            (external, cloud_event(purchase, T0 + timedelta(days=1), source="/shop")),
            (sales, cloud_event(account, T0)),
        ):
            await producer.send_and_wait(
                topic,
                envelope.to_json_bytes(),
                key=partition_key(envelope),
                headers=envelope.kafka_headers(),
            )
    finally:
        await producer.stop()
    consumer = EventConsumer(
        group=f"customer360-{schema}",
        topics=[sales, external],
        pool=pool,
        keys=data_keys_from_environment(pool),
        handler=project,
        producer_factory=partial(make_producer, infra.kafka_bootstrap),
        dead_letter_topic=dlt,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run_consumers(infra.kafka_bootstrap, [consumer], stop))
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while await pool.fetchval("SELECT count(*) FROM inbox") < 2:
            assert asyncio.get_running_loop().time() < deadline, "events did not arrive"
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task
    async with pool.acquire() as conn:
        profile = await get_profile(conn, customer)
        hits = await search(conn, "nandu")
    assert profile is not None
    assert profile["display_name"] == "Loja Ñandú"
    assert profile["lifetime_value"] == {"BRL": "42.00"}
    assert profile["orders"][str(shop_order)]["status"] == "placed"
    assert profile["lifecycle"] == "first_order"
    assert [h["customer_id"] for h in hits] == [customer]
    assert await pool.fetchval("SELECT count(*) FROM customer_profiles") == 1


async def test_batch_writes_exactly_the_rows_of_one_event_at_a_time(
    schema: str, pool_factory: Any
) -> None:
    """Profiles read before the batch, several events per customer, a lead converted and a
    merge in the middle, events after the merge: the batch writer folds them in memory and
    must leave the same profiles and search words as ``project`` one event at a time."""
    jose = a_contact("José", "da Silva", phones=["+5511912345678"])
    duplicate = a_contact("Jose", "Silva", emails=["jose@example.com.br"])
    acme = an_account("Acme Indústria", address=Address(city="Recife", state="PE", country="BR"))
    lead_id = uuid.uuid4()
    lead = LeadCaptured(
        lead_id=lead_id, customer_id=str(lead_id), source="event", name="Zezinho Souza",
        company="Padaria Estrela",
    )  # fmt: skip
    before_the_batch = [(jose, T0), (acme, T0)]
    batch: list[tuple[DomainEvent, datetime]] = [(duplicate, T0), (lead, T0)]
    for n in range(30):
        who = (jose, duplicate, acme)[n % 3].customer_id
        at = T0 + timedelta(hours=n + 1)
        order = uuid.uuid4()
        total = brl(f"{10 + n}.50")
        lines = [OrderLine(product_id="p", quantity=Decimal(1), line_total=total)]
        batch.append((OrderPlaced(order_id=order, customer_id=who, lines=lines, total=total), at))
        if n % 4 == 0:
            batch.append((OrderDelivered(order_id=order, customer_id=who), at))
        if n % 7 == 0:
            complaint = ComplaintFiled(case_id=uuid.uuid4(), customer_id=who, subject=f"n {n}")
            batch.append((complaint, at))
        if n == 12:
            merge = RecordsMerged(
                kind="contact", survivor_id=jose.contact_id, merged_id=duplicate.contact_id,
                customer_id=jose.customer_id, merged_customer_id=duplicate.customer_id,
            )  # fmt: skip
            batch.append((merge, at))
        if n == 20:
            converted = LeadConverted(
                lead_id=lead_id, customer_id=acme.customer_id, lead_customer_id=str(lead_id),
                contact_id=uuid.uuid4(),
            )  # fmt: skip
            batch.append((converted, at))
    batch.append((a_contact("Valdirene", "Tavares"), T0 + timedelta(days=2)))
    events = [consumed(event, at) for event, at in batch]
    before = [consumed(event, at) for event, at in before_the_batch]
    async with one_by_one_and_batched(
        pool_factory, schema, SCHEMA_SQL, project, project_batch, events, before
    ) as (one_by_one, batched):
        profiles = "SELECT * FROM customer_profiles ORDER BY customer_id"
        words = "SELECT word FROM search_words ORDER BY word"
        async with one_by_one.acquire() as a, batched.acquire() as b:
            expected = await a.fetch(profiles)
            assert len(expected) == 5  # José, the duplicate, Acme, the lead, Valdirene
            assert await b.fetch(profiles) == expected
            expected_words = await a.fetch(words)
            assert {"zezinho", "padaria", "recife", "valdirene"} <= {
                r["word"] for r in expected_words
            }
            assert await b.fetch(words) == expected_words
            merged = await get_profile(b, duplicate.customer_id)
            assert merged is not None and merged["merged_into"] == jose.customer_id
