"""Customer 360 from support events through real Kafka and PostgreSQL: a merged
customer's cases carried to its survivor, reopened cases, SLA states, the last rating."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from contracts.envelope import partition_key
from contracts.events.sales import ContactRegistered, RecordsMerged
from contracts.events.support import CaseOpened, CaseReopened, CaseSolved, ComplaintFiled
from contracts.events.support_quality import SatisfactionRated, SlaBreached
from contracts.registry import DomainEvent
from projections.customer360.projector import SCHEMA_SQL, project, project_batch
from projections.customer360.queries import get_profile
from services.platform.consumer import INBOX_SQL, EventConsumer, run_consumers
from services.platform.kafka import make_producer
from services.platform.privacy.data_keys import data_keys_from_environment
from tests.projection_helpers import cloud_event, consumed, one_by_one_and_batched

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CASE, OTHER, THIRD = (uuid.UUID(int=n) for n in (1, 2, 3))


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def contact(first: str) -> ContactRegistered:
    contact_id = uuid.uuid4()
    return ContactRegistered(contact_id=contact_id, customer_id=str(contact_id),
                             first_name=first, last_name="Silva")  # fmt: skip


def case_opened(case: uuid.UUID, customer: str, hours: float) -> CaseOpened:
    return CaseOpened(
        case_id=case, customer_id=customer, kind="complaint", channel="email",
        subject="Dented fridge", category="delivery", team="logistics", opened_at=at(hours),
        sla_policy_id="normal", sla_policy_version=1, calendar_id="br", calendar_version=1,
    )  # fmt: skip


def scenario() -> tuple[str, str, list[tuple[str, DomainEvent, datetime]]]:
    """(survivor, duplicate, [(topic kind, event, time)]): the duplicate's complaint is
    solved after the customers are merged; the survivor's own case is solved, rated,
    breached and reopened; a call centre files a third complaint."""
    jose, dup = contact("José"), contact("Jose")
    s, d = jose.customer_id, dup.customer_id
    merge = RecordsMerged(kind="contact", survivor_id=jose.contact_id, merged_id=dup.contact_id,
                          customer_id=s, merged_customer_id=d)  # fmt: skip
    rating = SatisfactionRated(case_id=CASE, customer_id=s, survey_id=uuid.uuid4(), score=2,
                               satisfied=False, comment="Slow", rated_at=at(6))  # fmt: skip
    breach = SlaBreached(case_id=CASE, customer_id=s, metric="resolution", target_minutes=60,
                         due_at=at(2), policy_id="normal", policy_version=1, calendar_id="br",
                         calendar_version=1, breached_at=at(2))  # fmt: skip
    events: list[tuple[str, DomainEvent, datetime]] = [
        ("sales", jose, at(0)),
        ("sales", dup, at(0)),
        ("support", case_opened(OTHER, d, 1), at(1)),
        ("support", case_opened(CASE, s, 1), at(1)),
        ("support", breach, at(2)),
        ("sales", merge, at(3)),
        ("support", CaseSolved(case_id=OTHER, customer_id=d, resolution="r", solved_at=at(4)),
         at(4)),
        ("support", CaseSolved(case_id=CASE, customer_id=s, resolution="r", solved_at=at(5)),
         at(5)),
        ("support", rating, at(6)),
        ("support", CaseReopened(case_id=CASE, customer_id=s, reason="again", reopened_at=at(7)),
         at(7)),
        ("external", ComplaintFiled(case_id=THIRD, customer_id=s, subject="Late"), at(8)),
    ]  # fmt: skip
    return s, d, events


def assert_survivor(profile: dict[str, Any] | None) -> None:
    """Worked by hand: CASE reopened (breached), THIRD filed; OTHER solved after the merge."""
    assert profile is not None
    assert profile["open_cases"] == [str(CASE), str(THIRD)]
    assert profile["open_complaints"] == 2
    assert profile["sla"] == {"breached": 1, "at_risk": 0}
    assert profile["cases"][str(OTHER)]["status"] == "solved"
    assert profile["last_csat"] == {
        "score": 2, "scale_high": 5, "satisfied": False, "rated_at": "2026-03-02T15:00:00Z",
        "case_id": str(CASE),
    }  # fmt: skip


async def test_support_events_through_kafka_reach_the_survivors_profile(
    infra: Any, schema: str, pool_factory: Any, topic_factory: Any
) -> None:
    pool = await pool_factory(schema, INBOX_SQL, SCHEMA_SQL)
    topics = {kind: await topic_factory(kind) for kind in ("sales", "support", "external")}
    dlt = await topic_factory("dlt")
    survivor, duplicate, events = scenario()
    producer = make_producer(infra.kafka_bootstrap)
    await producer.start()
    try:
        for kind, event, time in events:
            source = "/call-centre" if kind == "external" else f"/crm/{kind}"
            envelope = cloud_event(event, time, source=source)
            await producer.send_and_wait(topics[kind], envelope.to_json_bytes(),
                                         key=partition_key(envelope),
                                         headers=envelope.kafka_headers())  # fmt: skip
    finally:
        await producer.stop()
    consumer = EventConsumer(
        group=f"customer360-{schema}", topics=list(topics.values()), pool=pool,
        keys=data_keys_from_environment(pool), handler=project,
        producer_factory=partial(make_producer, infra.kafka_bootstrap), dead_letter_topic=dlt,
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(run_consumers(infra.kafka_bootstrap, [consumer], stop))
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while await pool.fetchval("SELECT count(*) FROM inbox") < len(events):
            assert not task.done(), "the consumer stopped"
            assert asyncio.get_running_loop().time() < deadline, "events did not arrive"
            await asyncio.sleep(0.05)  # polling a condition, with a deadline
    finally:
        stop.set()
        await task
    async with pool.acquire() as conn:
        assert_survivor(await get_profile(conn, survivor))
        merged = await get_profile(conn, duplicate)
    assert merged is not None and merged["merged_into"] == survivor
    assert merged["cases"][str(OTHER)]["status"] == "solved"  # its own history stays


@pytest.mark.parametrize("merge_last", [False, True], ids=["live-order", "merge-read-last"])
async def test_batches_and_any_cross_topic_order_give_the_same_profiles(
    schema: str, pool_factory: Any, merge_last: bool
) -> None:
    """The batch writer (rebuilds) against one event at a time, in the live order (the
    duplicate's case is solved after the merge: carried to the survivor) and with the
    merge read last, as a rebuild may read the sales topic (the merge joins the cases)."""
    survivor, _, events = scenario()
    # the topic matters to the 360 only for external refusals: read all as the CRM's own
    found = [consumed(e, t, topic="crm.support.events") for _, e, t in events]
    if merge_last:
        found.sort(key=lambda c: isinstance(c.event, RecordsMerged))
    async with one_by_one_and_batched(
        pool_factory, schema, SCHEMA_SQL, project, project_batch, found
    ) as (one_by_one, batched):
        rows = "SELECT customer_id, profile FROM customer_profiles ORDER BY customer_id"
        async with one_by_one.acquire() as a, batched.acquire() as b:
            assert await b.fetch(rows) == await a.fetch(rows)
            assert_survivor(await get_profile(b, survivor))
