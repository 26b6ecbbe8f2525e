"""Sales forgets an erased subject: its erasure consumer, on real Kafka and PostgreSQL,
drops the identity keys of every erased customer and records the erasure done there."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from contracts.events.privacy import PersonalDataErased
from services.platform.consumer import INBOX_SQL, run_consumers
from services.platform.privacy.data_keys import data_keys_schema
from services.platform.relay_main import EVENTSTORE_SQL
from services.sales.application.runner import run_command
from services.sales.bootstrap import bootstrap
from services.sales.domain import account, contact
from services.sales.entrypoints.erasure import erasure_consumer
from services.sales.migrations import SALES_STATE as SALES_SQL
from tests.kafka_helpers import publish
from tests.projection_helpers import cloud_event

pytestmark = pytest.mark.integration


async def test_an_erasure_drops_the_erased_customers_identity_keys_only(
    infra, schema, pool_factory, topic_factory, unique
):
    pool = await pool_factory(schema, EVENTSTORE_SQL, SALES_SQL, INBOX_SQL)
    runtime = bootstrap(pool)
    erased, merged, kept = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for record, email in ((erased, "erased"), (merged, "merged"), (kept, "kept")):
        await run_command(runtime, contact.RegisterContact(
            record, "Ana", emails=(f"{email}.{unique}@exemplo.com.br",),
            phones=("(11) 91234-5678",) if record == erased else (),
        ))  # fmt: skip
    # The erased customer's account and its contact share the customer id.
    company = uuid.uuid4()
    await run_command(runtime, account.RegisterAccount(company, "Padaria", tax_id="11222333000181"))
    bia = contact.RegisterContact(
        uuid.uuid4(), "Bia", account_id=company, emails=(f"bia.{unique}@exemplo.com.br",)
    )
    await run_command(runtime, bia)
    request = uuid.uuid4()
    erasure = PersonalDataErased(
        request_id=request, customer_id=str(erased), also_erased=[str(merged), str(company)],
        requested_by="dpo-ana", erased_at=datetime.now(UTC),
    )  # fmt: skip
    topic = await topic_factory("privacy")
    # Twice: a redelivery changes nothing.
    envelope = cloud_event(erasure, datetime.now(UTC), source="/crm/privacy")
    await publish(infra.kafka_bootstrap, topic, [envelope, envelope])

    progress = f"{data_keys_schema()}.erasure_progress"

    async def done() -> bool:
        return bool(await pool.fetchval(
            f"SELECT count(*) FROM {progress} WHERE request_id = $1 AND store = 'sales'", request
        ))  # fmt: skip

    consumer = erasure_consumer(infra.kafka_bootstrap, pool, topic=topic, group=f"g.{unique}")
    stop = asyncio.Event()
    task = asyncio.create_task(run_consumers(infra.kafka_bootstrap, [consumer], stop))
    try:
        async with asyncio.timeout(30):
            while not await done():
                await asyncio.sleep(0.1)  # polling the condition, not hoping for it
    finally:
        stop.set()
        await task

    left = await pool.fetch("SELECT key, customer_id FROM identity_keys ORDER BY key")
    assert [(r["key"], r["customer_id"]) for r in left] == [
        (f"contact:email:kept.{unique}@exemplo.com.br", str(kept))
    ]
    row = await pool.fetchrow(f"SELECT subject_id FROM {progress} WHERE request_id = $1", request)
    assert row["subject_id"] == str(erased)
    handled = await pool.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", f"g.{unique}")
    assert handled == 1
