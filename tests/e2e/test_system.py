"""The whole system as `make run` starts it: real processes, HTTP in, timeline out."""

from __future__ import annotations

import os
import signal
import uuid

import asyncpg
import httpx
import orjson
import pytest

from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(180)
async def test_deal_flow_reaches_timeline_and_survives_projector_kill(infra, system):
    customer = f"cust-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=system["base"], timeout=10) as http:
        opened = await http.post(
            "/opportunities",
            json={
                "customer_id": customer,
                "title": "Renovação da frota",
                "amount": {"amount": "125000.00", "currency": "BRL"},
            },
            headers={"Idempotency-Key": f"open-{customer}", "X-Correlation-Id": "corr-e2e"},
        )
        assert opened.status_code == 201, opened.text
        body = opened.json()
        # Opened, and assigned by the rules (no owner given): two events.
        assert body["version"] == 2 and body["owner_id"]
        again = await http.post(
            "/opportunities",
            json={
                "customer_id": customer,
                "title": "Renovação da frota",
                "amount": {"amount": "125000.00", "currency": "BRL"},
            },
            headers={"Idempotency-Key": f"open-{customer}"},
        )
        assert again.status_code == 201 and again.json()["replayed"] is True
        assert again.json()["id"] == body["id"]

        # Bad input: a 4xx problem document naming the field, and nothing appended.
        unknown_currency = {"amount": "1", "currency": "XXY"}
        bad = await http.post(
            "/opportunities",
            json={"customer_id": customer, "title": "x", "amount": unknown_currency},
        )
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert any(e["field"] == "amount.currency" for e in bad.json()["errors"])
        malformed = await http.post(
            "/opportunities", content=b"{oops", headers={"content-type": "application/json"}
        )
        assert malformed.status_code == 400

        # kill -9 the projector: the supervisor restarts it, nothing is lost or doubled.
        pid_file = system["state"] / "run" / "timeline-projector.pid"
        os.kill(int(pid_file.read_text()), signal.SIGKILL)

        moved = await http.post(
            f"/opportunities/{body['id']}/stage",
            json={"to_stage": "quote_requested", "expected_version": 2},
        )
        assert moved.status_code == 200, moved.text
        stale = await http.post(
            f"/opportunities/{body['id']}/stage",
            json={"to_stage": "proposal_sent", "expected_version": 2},
        )
        assert stale.status_code == 409
        lost_without_reason = await http.post(
            f"/opportunities/{body['id']}/stage", json={"to_stage": "lost"}
        )
        assert lost_without_reason.status_code == 422

    conn = await asyncpg.connect(infra.database_url)
    try:
        rows = await wait_for(lambda: _timeline(conn, customer, expected=3), timeout=60)
        assert [r["event_type"] for r in rows] == [
            "crm.sales.opportunity_opened",
            "crm.sales.opportunity_assigned",
            "crm.sales.deal_stage_changed",
        ]
        assert rows[0]["correlation_id"] == "corr-e2e"
        assert "qualification to quote_requested" in rows[2]["summary"]
        stored = await conn.fetchval(
            "SELECT count(*) FROM sales.events WHERE customer_id = $1", customer
        )
        assert stored == 3  # idempotent replay, bad input, conflicts: nothing extra appended

        # The customer 360 projector, another process and consumer group, saw it too.
        async def profile_after_the_stage_change():
            raw = await conn.fetchval(
                "SELECT profile FROM customer360.customer_profiles WHERE customer_id = $1",
                customer,
            )
            deals = orjson.loads(raw)["open_opportunities"] if raw else {}
            moved = any(d["stage"] != "qualification" for d in deals.values())
            return orjson.loads(raw) if moved else None

        view = await wait_for(profile_after_the_stage_change, timeout=60)
        [deal] = view["open_opportunities"].values()
        assert deal["stage"] == "quote_requested"
        assert deal["amount"] == {"amount": "125000.00", "currency": "BRL"}
    finally:
        await conn.close()


async def _timeline(conn, customer: str, expected: int):
    rows = await conn.fetch(
        "SELECT event_type, summary, correlation_id FROM timeline.timeline_entries "
        "WHERE customer_id = $1 ORDER BY occurred_at, stream_version",
        customer,
    )
    return rows if len(rows) >= expected else None
