"""The unified customer timeline against real Kafka and PostgreSQL.

Events from two services and one outside system land in one timeline in occurrence
order; redeliveries do not double it; malformed outside events are dead-lettered; pages
are keyset ranges of one index, whatever the timeline's length.
"""

from __future__ import annotations

import asyncio
import base64
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import orjson
import pytest

from contracts.envelope import CloudEvent
from contracts.events.sales import (
    ActivityLogged,
    DealStageChanged,
    OpportunityAssigned,
    OpportunityOpened,
    PurchaseMade,
)
from contracts.events.support import ComplaintFiled
from contracts.money import Money
from contracts.registry import DomainEvent
from projections.timeline.projector import SCHEMA_SQL, project, project_batch
from projections.timeline.queries import build_page_query, encode_cursor, entries_up_to, page
from services.platform.consumer import INBOX_SQL, EventConsumer, run_consumers
from services.platform.kafka import make_producer
from services.platform.privacy.data_keys import data_keys_from_environment
from tests.kafka_helpers import publish_to, read_topic
from tests.projection_helpers import cloud_event

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SHOP = "urn:shop:loja-1"


def envelope(
    event: DomainEvent,
    at: datetime,
    *,
    source: str,
    stream: str | None = None,
    version: int | None = None,
    correlation: str | None = None,
) -> CloudEvent:
    return cloud_event(
        event, at, source, streamid=stream, streamversion=version, correlationid=correlation
    )


async def project_until(infra, pool, topics: list[str], dlt: str, condition, timeout=60.0) -> None:
    """Run the timeline projector on ``topics`` until ``condition()`` holds."""
    consumer = EventConsumer(
        group=f"timeline-{uuid.uuid4().hex[:8]}",
        topics=topics,
        pool=pool,
        keys=data_keys_from_environment(pool),
        handler=project,
        batch_handler=project_batch,
        producer_factory=partial(make_producer, infra.kafka_bootstrap),
        dead_letter_topic=dlt,
        max_attempts=2,
        retry_backoff=0.01,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run_consumers(infra.kafka_bootstrap, [consumer], stop))
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await condition():
            if task.done() or asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the projector did not reach the expected state")
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task


def money(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="BRL")


def purchase(customer: str, amount: str, channel: str = "store") -> PurchaseMade:
    return PurchaseMade(
        order_id=uuid.uuid4(), customer_id=customer, total=money(amount), channel=channel
    )


def complaint(customer: str, subject: str, channel: str = "chat") -> ComplaintFiled:
    return ComplaintFiled(
        case_id=uuid.uuid4(),
        customer_id=customer,
        subject=subject,
        channel=channel,  # type: ignore[arg-type]
    )


async def all_pages(conn, customer: str, **kwargs: Any) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        result = await page(conn, customer, cursor=cursor, **kwargs)
        pages.append(result.entries)
        if result.next_cursor is None:
            return pages
        cursor = result.next_cursor


# ---------------------------------------------------------------------- one timeline


async def test_two_services_and_a_shop_interleave_in_occurrence_order(
    infra, schema, pool_factory, topic_factory, unique
):
    pool = await pool_factory(schema, INBOX_SQL, SCHEMA_SQL)
    sales, support = await topic_factory("sales"), await topic_factory("support")
    external, dlt = await topic_factory("external"), await topic_factory("dlt", partitions=1)
    customer = f"cust-{unique}"
    opp = uuid.uuid4()
    stream = f"opportunity-{opp}"

    opened = envelope(
        OpportunityOpened(
            opportunity_id=opp,
            customer_id=customer,
            title="Fleet renewal",
            amount=money("125000.00"),
            owner_id="seller-1",
        ),
        T0,
        source="/crm/sales",
        stream=stream,
        version=1,
        correlation="corr-1",
    )
    # Same instant as the opening: the stream version breaks the tie.
    assigned = envelope(
        OpportunityAssigned(
            opportunity_id=opp, customer_id=customer, owner_id="seller-2", rule="round_robin"
        ),
        T0,
        source="/crm/sales",
        stream=stream,
        version=2,
        correlation="corr-1",
    )
    complained = envelope(
        complaint(customer, "Charged twice"),
        T0 + timedelta(hours=1),
        source="/crm/support",
        stream=f"case-{uuid.uuid4()}",
        version=1,
    )
    bought = envelope(purchase(customer, "1299.90"), T0 + timedelta(hours=2), source=SHOP)
    moved = envelope(
        DealStageChanged(
            opportunity_id=opp,
            customer_id=customer,
            from_stage="qualification",
            to_stage="quote_requested",
        ),
        T0 + timedelta(hours=3),
        source="/crm/sales",
        stream=stream,
        version=3,
    )
    bought_again = envelope(
        purchase(customer, "10.00", "web"), T0 + timedelta(hours=4), source=SHOP
    )
    complained_again = envelope(
        complaint(customer, "Late delivery", "phone"),
        T0 + timedelta(hours=5),
        source="/crm/support",
        stream=f"case-{uuid.uuid4()}",
        version=1,
    )
    violating = envelope(purchase(customer, "1.00"), T0, source=SHOP).model_copy(
        update={"data": {"order_id": str(uuid.uuid4()), "customer_id": customer}}  # no total
    )
    key = customer.encode()
    # Published against occurrence order across topics: the shop's purchase first, the
    # support case next, the sales stream last; and each of the first two twice.
    await publish_to(
        infra.kafka_bootstrap,
        [
            (external, bought),
            (external, bought),
            (support, complained),
            (support, complained),
            (sales, moved),
            (external, b"{not json"),
            (external, violating.to_json_bytes()),
            (external, bought_again),
            (sales, opened),
            (sales, assigned),
            (support, complained_again),
        ],
        key,
    )

    async def settled() -> bool:
        # Every topic's last record is projected; each keeps one partition for this key.
        return await pool.fetchval("SELECT count(*) FROM timeline_entries") >= 7 and all(
            await asyncio.gather(
                *(
                    pool.fetchval("SELECT count(*) = 1 FROM inbox WHERE event_id = $1", e.id)
                    for e in (bought_again, complained_again, assigned)
                )
            )
        )

    await project_until(infra, pool, [sales, support, external], dlt, settled)

    async with pool.acquire() as conn:
        oldest_first = await page(conn, customer, newest_first=False)
        newest_first = await page(conn, customer)
    expected = [opened, assigned, complained, bought, moved, bought_again, complained_again]
    assert [e["event_id"] for e in oldest_first.entries] == [e.id for e in expected]
    assert newest_first.entries == oldest_first.entries[::-1]
    assert oldest_first.next_cursor is None
    # Redelivered events are entries once, and the inbox saw each once.
    assert await pool.fetchval("SELECT count(*) FROM timeline_entries") == 7
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 7

    by_id = {e["event_id"]: e for e in oldest_first.entries}
    shop = by_id[bought.id]
    assert shop["event_source"] == SHOP
    assert (shop["context"], shop["origin"], shop["channel"]) == ("sales", "external", "store")
    assert shop["summary"] == "Purchase of 1,299.90 BRL via store"
    assert shop["links"] == {"order_id": bought.data["order_id"]}
    assert shop["actor"] is None and shop["stream_id"] is None
    assert shop["occurred_at"] == bought.time
    assert shop["payload"]["total"] == {"amount": "1299.90", "currency": "BRL"}
    case = by_id[complained.id]
    assert (case["context"], case["origin"], case["channel"]) == ("support", "internal", "chat")
    assert case["summary"] == "Complaint filed via chat: Charged twice"
    assert case["links"] == {"case_id": complained.data["case_id"]}
    first = by_id[opened.id]
    assert (first["context"], first["origin"], first["channel"]) == ("sales", "internal", "sales")
    assert first["actor"] == "seller-1" and by_id[assigned.id]["actor"] == "seller-2"
    assert first["links"] == {"opportunity_id": str(opp)}
    assert (first["stream_id"], first["stream_version"]) == (stream, 1)
    assert first["correlation_id"] == "corr-1" and first["customer_id"] == customer
    assert "qualification to quote_requested" in by_id[moved.id]["summary"]

    async with pool.acquire() as conn:
        outside = await page(conn, customer, contexts=["external"], newest_first=False)
        cases = await page(conn, customer, contexts=["support"], newest_first=False)
    assert [e["event_id"] for e in outside.entries] == [bought.id, bought_again.id]
    assert [e["event_id"] for e in cases.entries] == [complained.id, complained_again.id]

    # Both malformed outside events are dead-lettered with their reason; the valid one
    # after them is on the timeline (above).
    dead = await read_topic(infra.kafka_bootstrap, dlt, until=lambda r: len(r) >= 2)
    assert len(dead) == 2
    headers = [
        dict(r.headers)
        for r in sorted(dead, key=lambda r: int(dict(r.headers)["dlt.source.offset"]))
    ]
    assert [
        r.value for r in sorted(dead, key=lambda r: int(dict(r.headers)["dlt.source.offset"]))
    ] == [
        b"{not json",
        violating.to_json_bytes(),
    ]
    for h in headers:
        assert h["dlt.source.topic"] == external.encode()
        assert h["dlt.error.class"] == b"PoisonRecord"
    assert b"not a valid CloudEvent" in headers[0]["dlt.error.message"]
    assert b"total" in headers[1]["dlt.error.message"]


# ------------------------------------------------------------------------ pagination


def _ids_in_order(events: list[CloudEvent]) -> list[str]:
    """Occurrence order; same-instant ties by stream id (equal lengths here), then version."""
    return [
        e.id for e in sorted(events, key=lambda e: (e.time, e.streamid or "", e.streamversion or 0))
    ]


async def test_pages_filters_and_time_travel(infra, schema, pool_factory, topic_factory, unique):
    pool = await pool_factory(schema, INBOX_SQL, SCHEMA_SQL)
    sales, support = await topic_factory("sales"), await topic_factory("support")
    dlt = await topic_factory("dlt", partitions=1)
    customer, other = f"cust-{unique}", f"other-{unique}"
    events: list[tuple[str, CloudEvent]] = []
    for i in range(120):
        at = T0 + timedelta(minutes=i // 3)  # three entries share each instant
        if i % 3 == 0:
            ce = envelope(
                complaint(customer, f"Complaint {i}"), at, source="/crm/support",
                stream=f"case-{i:04d}", version=1,
            )  # fmt: skip
            events.append((support, ce))
        elif i % 3 == 1:
            activity = ActivityLogged(
                activity_id=uuid.uuid4(), customer_id=customer, kind="call",
                subject=f"Call {i}", happened_at=at, actor_id="seller-1",
            )  # fmt: skip
            ce = envelope(activity, at, source="/crm/sales", stream=f"acti-{i:04d}", version=1)
            events.append((sales, ce))
        else:
            ce = envelope(
                purchase(customer, f"{i}.00", "web"), at, source="/crm/sales",
                stream=f"ordr-{i:04d}", version=1,
            )  # fmt: skip
            events.append((sales, ce))
    noise = [
        (sales, envelope(purchase(other, "1.00"), T0 + timedelta(minutes=n), source="/crm/sales"))
        for n in range(5)
    ]
    shuffled = events + noise
    random.Random(3).shuffle(shuffled)
    await publish_to(infra.kafka_bootstrap, shuffled, customer.encode())

    async def all_in() -> bool:
        return await pool.fetchval("SELECT count(*) FROM timeline_entries") == 125

    await project_until(infra, pool, [sales, support], dlt, all_in)
    mine = [ce for _, ce in events]
    expected = _ids_in_order(mine)

    async with pool.acquire() as conn:
        # 50 at a time, both directions: every entry exactly once, in order.
        newest = await all_pages(conn, customer, limit=50)
        oldest = await all_pages(conn, customer, limit=50, newest_first=False)
        assert [len(p) for p in newest] == [50, 50, 20] == [len(p) for p in oldest]
        assert [e["event_id"] for p in oldest for e in p] == expected
        assert [e["event_id"] for p in newest for e in p] == expected[::-1]

        # Filters, alone and paged.
        support_pages = await all_pages(conn, customer, contexts=["support"], limit=15)
        complaints = [ce for ce in mine if ce.type == ComplaintFiled.event_type]
        assert [e["event_id"] for p in support_pages for e in p] == _ids_in_order(complaints)[::-1]
        calls = await page(
            conn, customer, event_types=[ActivityLogged.event_type], newest_first=False
        )
        activity = [ce for ce in mine if ce.type == ActivityLogged.event_type]
        assert [e["event_id"] for e in calls.entries] == _ids_in_order(activity)
        assert {e["channel"] for e in calls.entries} == {"call"}
        window = await page(
            conn,
            customer,
            since=T0 + timedelta(minutes=10),
            until=T0 + timedelta(minutes=20),
            newest_first=False,
        )  # since inclusive, until exclusive
        in_window = [
            ce for ce in mine if T0 + timedelta(minutes=10) <= ce.time < T0 + timedelta(minutes=20)
        ]
        assert [e["event_id"] for e in window.entries] == _ids_in_order(in_window)
        assert len(window.entries) == 30
        both = await page(
            conn,
            customer,
            contexts=["sales"],
            event_types=[PurchaseMade.event_type],
            until=T0 + timedelta(minutes=3),
            newest_first=False,
        )
        assert [e["event_id"] for e in both.entries] == _ids_in_order(
            [
                ce
                for ce in mine
                if ce.type == PurchaseMade.event_type and ce.time < T0 + timedelta(minutes=3)
            ]
        )
        assert len(both.entries) == 3

        # Time travel: as of an instant, later facts are not there yet (inclusive).
        as_of = T0 + timedelta(minutes=9)
        past = await all_pages(conn, customer, as_of=as_of, limit=7, newest_first=False)
        known = [ce for ce in mine if ce.time <= as_of]
        assert len(known) == 30
        assert [e["event_id"] for p in past for e in p] == _ids_in_order(known)
        folded = await entries_up_to(conn, customer, as_of)
        by_id = {ce.id: ce for ce in known}
        assert [(t, at) for t, _, at in folded] == [
            (by_id[i].type, by_id[i].time) for i in _ids_in_order(known)
        ]
        assert [payload for _, payload, _ in folded] == [
            orjson.loads(orjson.dumps(by_id[i].data)) for i in _ids_in_order(known)
        ]
        assert await entries_up_to(conn, customer, T0 - timedelta(seconds=1)) == []

        # The other customer's entries never leak in.
        assert len((await page(conn, other, limit=50)).entries) == 5


async def test_invalid_cursor_and_arguments_raise_value_error(infra, schema, pool_factory):
    pool = await pool_factory(schema, INBOX_SQL, SCHEMA_SQL)
    async with pool.acquire() as conn:
        junk = [
            "not a cursor!",
            "%%%",
            base64.urlsafe_b64encode(b"plain text").decode(),
            base64.urlsafe_b64encode(b'{"a": 1}').decode(),
            base64.urlsafe_b64encode(b'["2025-01-01T00:00:00", "k", "desc"]').decode(),  # naive
            base64.urlsafe_b64encode(b'["yesterday", "k", "desc"]').decode(),
            base64.urlsafe_b64encode(b'["2025-01-01T00:00:00+00:00", 7, "desc"]').decode(),
        ]
        for cursor in junk:
            with pytest.raises(ValueError, match="invalid timeline cursor"):
                await page(conn, "c", cursor=cursor)
        # A cursor continues the listing it came from, not the other direction.
        newest = encode_cursor(T0, "k", newest_first=True)
        with pytest.raises(ValueError, match="direction"):
            await page(conn, "c", cursor=newest, newest_first=False)
        assert (await page(conn, "c", cursor=newest)).entries == []
        with pytest.raises(ValueError, match="limit"):
            await page(conn, "c", limit=0)
        with pytest.raises(ValueError, match="timezone"):
            await page(conn, "c", as_of=datetime(2025, 1, 1))


# ------------------------------------------------------------------ the query plan


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def test_a_page_is_an_index_range_scan_however_long_the_timeline(schema, pool_factory):
    pool = await pool_factory(schema, INBOX_SQL, SCHEMA_SQL)
    types = ["crm.support.complaint_filed", "crm.sales.activity_logged", "crm.sales.purchase_made"]
    async with pool.acquire() as conn:
        # Rows written directly: this checks the read path's plan, not the projector.
        await conn.execute(
            """
            INSERT INTO timeline_entries (event_source, event_id, customer_id,
                named_customer_id, occurred_at, context, origin, channel, event_type, summary,
                stream_id, stream_version, payload)
            SELECT '/crm/x', 'big-' || g, 'big', 'big', $1::timestamptz + g * interval '1 minute',
                CASE WHEN g % 3 = 0 THEN 'support' ELSE 'sales' END, 'internal', 'phone',
                ($2::text[])[g % 3 + 1], 'entry', 's-' || g, 1, '{}'::jsonb
            FROM generate_series(1, 100000) g
            UNION ALL
            SELECT '/crm/x', 'small-' || g, 'small-' || (g % 1000), 'small-' || (g % 1000),
                $1::timestamptz + g * interval '1 minute', 'sales', 'internal', 'phone',
                ($2::text[])[g % 3 + 1], 'entry', 's-' || g, 1, '{}'::jsonb
            FROM generate_series(1, 10000) g
            """,
            T0,
            types,
        )
        await conn.execute("ANALYZE timeline_entries")
        first = await page(conn, "big", limit=50)
        variants: list[dict[str, Any]] = [
            {},
            {"newest_first": False},
            {"cursor": first.next_cursor},
            {"contexts": ["support"]},
            {"contexts": ["sales", "external"]},
            {"event_types": [types[1]]},
            {"since": T0 + timedelta(days=10), "until": T0 + timedelta(days=20)},
            {"as_of": T0 + timedelta(days=30)},
            {
                "contexts": ["sales"],
                "event_types": types[1:],
                "since": T0,
                "as_of": T0 + timedelta(days=40),
                "cursor": first.next_cursor,
            },
        ]
        for customer in ("big", "small-7"):
            for kwargs in variants:
                sql, args = build_page_query(customer, limit=50, **kwargs)
                explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args)
                plan = orjson.loads(explained)[0]["Plan"]
                nodes = list(_nodes(plan))
                kinds = [n["Node Type"] for n in nodes]
                assert "Sort" not in kinds and "Seq Scan" not in kinds, (customer, kwargs, kinds)
                scans = [n for n in nodes if n["Node Type"] in ("Index Scan", "Index Only Scan")]
                assert [n["Index Name"] for n in scans] == ["timeline_by_customer"], kwargs
                scan = scans[0]
                if "cursor" in kwargs:
                    assert "sort_key" in scan["Index Cond"]  # the keyset is a range bound
                if customer == "big" and set(kwargs) <= {
                    "newest_first",
                    "cursor",
                    "since",
                    "until",
                    "as_of",
                }:
                    # Without row filters a page reads one page of index entries, not the
                    # customer's 100,000.
                    assert scan["Actual Rows"] == 51 and "Rows Removed by Filter" not in scan
        # The keyset continues exactly where the first page ended.
        second = await page(conn, "big", cursor=first.next_cursor, limit=50)
        assert first.entries[-1]["occurred_at"] > second.entries[0]["occurred_at"]
        assert first.entries[0]["event_id"] == "big-100000"
        assert second.entries[0]["event_id"] == "big-99950"


async def test_facts_only_the_crm_establishes_are_refused_from_other_systems(
    infra, schema, pool_factory, topic_factory, unique
):
    """On an external topic: a CRM source or a type other systems may not publish is
    dead-lettered, never projected; the shop's purchase after them is."""
    pool = await pool_factory(schema, INBOX_SQL, SCHEMA_SQL)
    external, dlt = await topic_factory("external"), await topic_factory("dlt", partitions=1)
    customer = f"cust-{unique}"
    as_the_crm = envelope(purchase(customer, "1.00"), T0, source="/crm/sales")
    a_deal_move = envelope(
        DealStageChanged(opportunity_id=uuid.uuid4(), customer_id=customer,
                         from_stage="qualification", to_stage="quote_requested"),
        T0, source=SHOP,
    )  # fmt: skip
    fine = envelope(purchase(customer, "2.00"), T0 + timedelta(hours=1), source=SHOP)
    await publish_to(
        infra.kafka_bootstrap,
        [(external, as_the_crm), (external, a_deal_move), (external, fine)],
        key=customer.encode(),
    )

    async def projected() -> bool:
        count = await pool.fetchval(
            "SELECT count(*) FROM timeline_entries WHERE customer_id = $1", customer
        )
        return bool(count)

    await project_until(infra, pool, [external], dlt, projected)
    rows = await pool.fetch(
        "SELECT event_id FROM timeline_entries WHERE customer_id = $1", customer
    )
    assert [r["event_id"] for r in rows] == [fine.id]
    dead = await read_topic(infra.kafka_bootstrap, dlt, until=lambda r: len(r) >= 2)
    messages = sorted(dict(r.headers)["dlt.error.message"] for r in dead)
    assert len(dead) == 2
    assert all(m.startswith(b"ExternalEventRefused") for m in messages)
    assert any(b"reserved" in m for m in messages)
    assert any(b"may not be published by other systems" in m for m in messages)
