"""The privacy API against real PostgreSQL (and Kafka for the relay): erasure destroys
the keys and publishes PersonalDataErased, refusals are problems, holds block until
released, the export holds the subject's data, every act is audited, and the gateway
lets privacy officers in and sellers not."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from contracts.catalogue import PRIVACY_CONTEXT
from services.gateway.app import GatewayRuntime, GatewaySettings, create_app
from services.gateway.auth import KeyRing
from services.gateway.plugged import plug
from services.platform.db import apply_sql
from services.platform.kafka import make_producer
from services.platform.migrate import EVENT_STORE
from services.platform.privacy.data_keys import record_erasure_done
from services.platform.relay import OutboxRelay
from services.platform.runtime import serve_asgi
from services.privacy.application.runtime import PrivacyRuntime, ReadModels
from services.privacy.bootstrap import bootstrap
from services.privacy.entrypoints.http import create_app as create_privacy_app
from services.privacy.migrations import PRIVACY_STATE
from tests.gateway_stack import _wait_until_serving, free_port
from tests.kafka_helpers import read_topic

pytestmark = pytest.mark.integration

PROJECTIONS = Path(__file__).parents[2] / "projections"
OFFICER = {"x-actor-id": "dpo-ana", "x-actor-role": "privacy_officer"}
NAME = "Zuleica Quaresma-Tavares"


@dataclass
class Privacy:
    runtime: PrivacyRuntime
    pool: asyncpg.Pool
    schema: str
    client: httpx.AsyncClient

    async def known_subject(self, merged_from: tuple[str, ...] = ()) -> str:
        """A subject with a key, a customer 360 profile and one timeline entry."""
        subject = str(uuid.uuid4())
        await self.runtime.keys.for_writing([subject])
        profile = {"customer_id": subject, "display_name": NAME, "merged_from": list(merged_from)}
        await self.pool.execute(
            "INSERT INTO customer_profiles (customer_id, profile, search_text) VALUES ($1, $2, $3)",
            subject, orjson.dumps(profile).decode(), NAME,
        )  # fmt: skip
        await self.pool.execute(
            "INSERT INTO timeline_entries (event_source, event_id, customer_id, named_customer_id,"
            " occurred_at, context, origin, channel, event_type, summary, payload) VALUES "
            "('/crm/sales', $1, $2, $2, now(), 'sales', 'internal', 'sales', "
            "'crm.sales.contact_registered', 'Contact registered', $3)",
            str(uuid.uuid4()), subject, orjson.dumps({"first_name": NAME}).decode(),
        )  # fmt: skip
        return subject

    async def erase(self, subject: str, **headers: str) -> httpx.Response:
        return await self.client.post(
            "/erasures", json={"subject_id": subject}, headers={**OFFICER, **headers}
        )


@pytest.fixture
async def privacy(infra: Any, schema: str, pool_factory: Any) -> AsyncIterator[Privacy]:
    pool = await pool_factory(schema, EVENT_STORE, PRIVACY_STATE)
    # The read models in the same throwaway schema, in their real layout.
    await apply_sql(pool, schema, [PROJECTIONS / "timeline" / "schema.sql",
                                   PROJECTIONS / "customer360" / "schema.sql"])  # fmt: skip
    runtime = bootstrap(pool, read_models=ReadModels(schema, schema))
    transport = httpx.ASGITransport(app=create_privacy_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://privacy") as client:
        yield Privacy(runtime, pool, schema, client)


async def test_erasure_destroys_the_keys_and_publishes_the_event(privacy, infra, topic_factory):
    merged = str(uuid.uuid4())
    await privacy.runtime.keys.for_writing([merged])
    subject = await privacy.known_subject(merged_from=(merged,))

    answer = await privacy.erase(subject)

    assert answer.status_code == 202, answer.text
    request = answer.json()
    assert (request["status"], request["also_erased"]) == ("keys_destroyed", [merged])
    assert request["retained"] and "order amounts" in request["retained"][0]
    states = await privacy.runtime.keys.states([subject, merged])
    assert states == {subject: "erased", merged: "erased"}
    topic = await topic_factory()
    relay = OutboxRelay(privacy.pool, partial(make_producer, infra.kafka_bootstrap), topic)
    async with privacy.pool.acquire() as conn:
        assert await relay.publish_batch(conn) == 1
    await relay.close()
    records = await read_topic(infra.kafka_bootstrap, topic, until=lambda r: len(r) >= 1)
    event = orjson.loads(records[0].value)
    assert event["type"] == "crm.privacy.personal_data_erased"
    assert event["subject"] == f"erasure-{request['id']}"
    assert records[0].key == subject.encode()
    assert event["data"]["request_id"] == request["id"]
    assert event["data"]["also_erased"] == [merged]
    assert event["data"]["requested_by"] == "dpo-ana"


async def test_an_unknown_subject_is_404_and_nothing_is_written(privacy):
    subject = str(uuid.uuid4())
    answer = await privacy.erase(subject)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert (await privacy.runtime.keys.states([subject]))[subject] == "unknown"
    assert await privacy.pool.fetchval("SELECT count(*) FROM events") == 0


async def test_a_second_erasure_is_409(privacy):
    subject = await privacy.known_subject()
    assert (await privacy.erase(subject)).status_code == 202
    again = await privacy.erase(subject)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/already-erased")


async def test_a_retry_with_the_same_idempotency_key_answers_the_first_request(privacy):
    subject = await privacy.known_subject()
    first = await privacy.erase(subject, **{"Idempotency-Key": "erase-1"})
    again = await privacy.erase(subject, **{"Idempotency-Key": "erase-1"})
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"] and again.json()["replayed"] is True
    assert await privacy.pool.fetchval("SELECT count(*) FROM events") == 1


async def test_a_hold_blocks_the_erasure_until_released(privacy):
    subject = await privacy.known_subject()
    placed = await privacy.client.post(
        "/holds", json={"subject_id": subject, "reason": "lawsuit 0042/2025"}, headers=OFFICER
    )
    assert placed.status_code == 201, placed.text
    hold_id = placed.json()["id"]

    refused = await privacy.erase(subject)
    assert refused.status_code == 409
    assert refused.json()["hold"]["id"] == hold_id
    assert (await privacy.runtime.keys.states([subject]))[subject] == "active"

    released = await privacy.client.delete(f"/holds/{hold_id}", headers=OFFICER)
    assert released.status_code == 200 and released.json()["active"] is False
    assert (await privacy.erase(subject)).status_code == 202
    assert (await privacy.client.delete(f"/holds/{hold_id}", headers=OFFICER)).status_code == 409


async def test_progress_is_completed_once_every_store_forgot_the_subject(privacy):
    subject = await privacy.known_subject()
    request_id = (await privacy.erase(subject)).json()["id"]
    async with privacy.pool.acquire() as conn:
        for store in ("timeline", "customer360"):
            await record_erasure_done(conn, uuid.UUID(request_id), store, subject)
    waiting = (await privacy.client.get(f"/erasures/{request_id}", headers=OFFICER)).json()
    async with privacy.pool.acquire() as conn:
        await record_erasure_done(conn, uuid.UUID(request_id), "sales", subject)
    done = (await privacy.client.get(f"/erasures/{request_id}", headers=OFFICER)).json()

    assert waiting["status"] == "keys_destroyed"
    assert [p["done_at"] is not None for p in waiting["progress"]] == [True, True, False]
    assert done["status"] == "completed"
    listed = await privacy.client.get("/erasures", params={"subject_id": subject}, headers=OFFICER)
    assert [r["id"] for r in listed.json()["items"]] == [request_id]


async def test_the_export_holds_the_subjects_data_and_is_audited(privacy):
    subject = await privacy.known_subject()
    answer = await privacy.client.get(f"/subjects/{subject}/export", headers=OFFICER)

    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment")
    document = answer.json()
    assert document["key_state"] == "active"
    assert document["customer_profile"]["display_name"] == NAME
    assert [e["payload"]["first_name"] for e in document["timeline"]] == [NAME]
    assert [a["action"] for a in document["audit_trail"]] == ["export"]
    missing = await privacy.client.get(f"/subjects/{uuid.uuid4()}/export", headers=OFFICER)
    assert missing.status_code == 404


async def test_every_act_is_in_the_audit_trail_with_its_actor(privacy):
    subject = await privacy.known_subject()
    hold = await privacy.client.post(
        "/holds", json={"subject_id": subject, "reason": "audit"}, headers=OFFICER
    )
    await privacy.client.delete(f"/holds/{hold.json()['id']}", headers=OFFICER)
    await privacy.client.get(f"/subjects/{subject}/export", headers=OFFICER)
    await privacy.erase(subject, **{"X-Correlation-Id": "corr-7"})

    trail = await privacy.client.get("/audit", params={"subject_id": subject}, headers=OFFICER)

    rows = trail.json()["items"]
    assert [r["action"] for r in rows] == [
        "hold_placed", "hold_released", "export", "erasure_requested"
    ]  # fmt: skip
    assert {(r["actor_id"], r["actor_role"]) for r in rows} == {("dpo-ana", "privacy_officer")}
    assert rows[-1]["correlation_id"] == "corr-7"


async def test_the_gateway_admits_privacy_officers_and_refuses_sellers(privacy, infra):
    subject = await privacy.known_subject()
    port, gateway_port = free_port(), free_port()
    keys = KeyRing({"test-1": "a-test-signing-key-of-enough-length-1234"}, "test-1")
    settings = GatewaySettings(upstreams={"privacy": f"http://127.0.0.1:{port}"})
    runtime = await GatewayRuntime.create(settings, infra.database_url, infra.kafka_bootstrap, keys)
    stop = asyncio.Event()
    gateway = create_app(runtime, contexts=[plug(PRIVACY_CONTEXT)])
    app = create_privacy_app(privacy.runtime)
    servers = [
        asyncio.create_task(serve_asgi(app, port, stop, "privacy-api")),
        asyncio.create_task(serve_asgi(gateway, gateway_port, stop, "gateway")),
    ]
    url = f"http://127.0.0.1:{gateway_port}"
    path = f"/v1/privacy/subjects/{subject}/export"
    try:
        await _wait_until_serving([f"{url}/openapi.json"], servers, timeout=10)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            seller = keys.issue("seller-1", "seller", team="sp")
            officer = keys.issue("dpo-bia", "privacy_officer")
            refused = await client.get(path, headers={"Authorization": f"Bearer {seller}"})
            admitted = await client.get(path, headers={"Authorization": f"Bearer {officer}"})
    finally:
        runtime.stop.set()
        stop.set()
        await asyncio.gather(*servers, return_exceptions=True)
        await runtime.close()
    assert refused.status_code == 403
    assert admitted.status_code == 200, admitted.text
    assert admitted.headers["content-disposition"].startswith("attachment")
    exported_by = await privacy.pool.fetch(
        "SELECT actor_id, actor_role FROM audit_log WHERE subject_id = $1", subject
    )
    assert [tuple(r) for r in exported_by] == [("dpo-bia", "privacy_officer")]
