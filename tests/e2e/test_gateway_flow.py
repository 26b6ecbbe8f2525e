"""A front end and a shop through the real gateway, services, Kafka and PostgreSQL.

A seller registers an account and a contact, opens a deal, moves it, logs a call and
places an order; after every command the timeline read with the command's consistency
token already shows the step (read your own writes). An agent watching the customer's
live timeline sees a purchase the shop publishes through ``POST /v1/events`` arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from tests.e2e.conftest import E2E_API_KEY, wait_for

pytestmark = pytest.mark.e2e


async def ok(answer: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    return answer.json()


@pytest.mark.timeout(180)
async def test_front_end_flow_with_read_your_writes_and_a_live_timeline(system) -> None:
    keys = system["keys"]
    seller = {"Authorization": f"Bearer {keys.issue('seller-sp-01', 'seller', team='sudeste')}"}
    agent = {"Authorization": f"Bearer {keys.issue('agent-7', 'service_agent')}"}
    name = f"Padaria Estrela {uuid.uuid4().hex[:6]}"
    digits = f"{uuid.uuid4().int % 10**7:07d}"
    phone = f"(11) 3{digits[:3]}-{digits[3:]}"  # unique: a known phone is a duplicate
    async with httpx.AsyncClient(base_url=system["gateway"], timeout=30) as http:

        async def step(path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
            answer = await ok(await http.post(path, json=body, headers=seller), status)
            assert answer["consistency_token"]
            return answer

        async def timeline_after(answer: dict[str, Any], customer: str) -> list[dict[str, Any]]:
            page = await ok(await http.get(
                f"/v1/customers/{customer}/timeline",
                params={"wait_for": answer["consistency_token"], "order": "oldest"},
                headers=seller,
            ))  # fmt: skip
            assert page["read_your_writes"] == "applied"
            return page["entries"]

        account = await step("/v1/accounts", {
            "name": name, "tax_id": None, "phones": [phone],
            "address": {"city": "Campinas", "state": "SP", "country": "BR"},
        }, 201)  # fmt: skip
        customer = account["customer_id"]
        entries = await timeline_after(account, customer)
        assert [e["summary"] for e in entries] == [f"Account registered: {name} (company)"]

        contact = await step("/v1/contacts", {
            "first_name": "Márcia", "last_name": "Lima", "account_id": account["id"],
        }, 201)  # fmt: skip
        assert (await timeline_after(contact, customer))[-1]["summary"].startswith(
            "Contact registered: Márcia Lima"
        )

        deal = await step("/v1/opportunities", {
            "customer_id": customer, "title": "Forno industrial",
            "amount": {"amount": "48000.00", "currency": "BRL"},
        }, 201)  # fmt: skip
        assert deal["owner_id"] == "seller-sp-01"
        opened = (await timeline_after(deal, customer))[-1]
        assert opened["event_type"] == "crm.sales.opportunity_opened"
        assert opened["summary"] == "Opportunity opened: Forno industrial (48,000.00 BRL)"

        for stage in ("quote_requested", "proposal_sent"):
            moved = await step(f"/v1/opportunities/{deal['id']}/stage", {"to_stage": stage})
            last = (await timeline_after(moved, customer))[-1]
            assert last["summary"].endswith(f"to {stage}")
            assert last["links"]["opportunity_id"] == deal["id"]

        call = await step("/v1/activities", {
            "customer_id": customer, "kind": "call", "subject": "Negociação do prazo",
            "happened_at": "2026-11-25T14:00:00Z", "duration_minutes": 12,
            "related": {"opportunity_id": deal["id"]},
        }, 201)  # fmt: skip
        assert (await timeline_after(call, customer))[-1]["summary"] == (
            "Call: Negociação do prazo (12 min)"
        )

        order = await step("/v1/orders", {
            "customer_id": customer, "opportunity_id": deal["id"], "channel": "direct",
            "lines": [{"product_id": "CRM-SEAT-ANNUAL", "quantity": "2",
                       "line_total": {"amount": "2400.00", "currency": "BRL"}}],
        }, 201)  # fmt: skip
        kinds = [e["event_type"] for e in await timeline_after(order, customer)]
        assert kinds[-2:] == ["crm.sales.order_placed", "crm.sales.purchase_made"]

        profile = await ok(await http.get(
            f"/v1/customers/{customer}",
            params={"wait_for": order["consistency_token"]}, headers=agent,
        ))  # fmt: skip
        assert profile["display_name"] == name
        assert profile["open_opportunities"][deal["id"]]["stage"] == "proposal_sent"
        hits = await ok(await http.get("/v1/search", params={"q": name.lower()}, headers=agent))
        assert hits["hits"][0]["customer_id"] == customer

        # A seller of another team sees the customer, not the sudeste team's deal.
        sul = {"Authorization": f"Bearer {keys.issue('seller-rs-01', 'seller', team='sul')}"}
        theirs = await ok(await http.get(f"/v1/customers/{customer}", headers=sul))
        assert theirs["display_name"] == name and theirs["open_opportunities"] == {}
        page = await ok(await http.get(f"/v1/customers/{customer}/timeline", headers=sul,
                                       params={"limit": 100}))  # fmt: skip
        shown = {e["links"].get("opportunity_id") for e in page["entries"]}
        assert deal["id"] not in shown and page["entries"]  # the rest of the history stays
        assert (await http.get(f"/v1/opportunities/{deal['id']}", headers=sul)).status_code == 403

        # Nor the team's closed deals: a lost one shows only to the team and to agents.
        lost = await step("/v1/opportunities", {
            "customer_id": customer, "title": "Balcão refrigerado",
            "amount": {"amount": "9000.00", "currency": "BRL"},
        }, 201)  # fmt: skip
        closed = await step(f"/v1/opportunities/{lost['id']}/stage", {
            "to_stage": "lost", "lost_reason": "no_budget", "reason": "Sem verba este ano",
        })  # fmt: skip
        await timeline_after(closed, customer)  # deal owners are read from the timeline
        seen = {}
        for who, headers in (("seller", seller), ("agent", agent), ("sul", sul)):
            view = await ok(await http.get(
                f"/v1/customers/{customer}",
                params={"wait_for": closed["consistency_token"]}, headers=headers,
            ))  # fmt: skip
            seen[who] = view["closed_opportunities"]
        assert seen == {"seller": {lost["id"]: "lost"}, "agent": {lost["id"]: "lost"}, "sul": {}}

        # An agent watches the live timeline; the shop publishes a purchase.
        received: list[dict[str, Any]] = []
        connected = asyncio.Event()

        async def watch() -> None:
            async with http.stream("GET", f"/v1/customers/{customer}/timeline/stream",
                                   headers=agent) as stream:  # fmt: skip
                assert stream.status_code == 200
                assert stream.headers["content-type"].startswith("text/event-stream")
                # the stream's starting point is taken before its answer begins: from
                # here on, whatever the timeline applies is streamed
                connected.set()
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        received.append(orjson.loads(line[6:]))

        watcher = asyncio.create_task(watch())
        await wait_for(lambda: _streaming(connected, watcher))  # before the purchase happens
        shop_event = {
            "specversion": "1.0", "id": str(uuid.uuid4()), "source": "urn:shop:loja-centro",
            "type": "crm.sales.purchase_made", "time": datetime.now(UTC).isoformat(),
            "data": {"order_id": str(uuid.uuid4()), "customer_id": customer,
                     "total": {"amount": "35.50", "currency": "BRL"}, "channel": "store"},
        }  # fmt: skip
        published = await ok(await http.post(
            "/v1/events", json=shop_event, headers={"X-API-Key": E2E_API_KEY}
        ))  # fmt: skip
        assert published["accepted"] == 1
        try:
            await wait_for(lambda: _arrived(received, shop_event["id"]), timeout=60)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        [live] = [e for e in received if e["event_id"] == shop_event["id"]]
        assert live["origin"] == "external"
        assert live["summary"] == "Purchase of 35.50 BRL via store"
        page = await ok(await http.get(f"/v1/customers/{customer}/timeline", headers=agent))
        assert page["entries"][0]["event_id"] == shop_event["id"]  # newest first


async def _arrived(received: list[dict[str, Any]], event_id: str) -> bool:
    await asyncio.sleep(0)
    return any(e["event_id"] == event_id for e in received)


async def _streaming(connected: asyncio.Event, watcher: asyncio.Task[None]) -> bool:
    if watcher.done():
        watcher.result()  # the stream failed: its error is the test's
        raise AssertionError("the live stream ended before the purchase")
    return connected.is_set()
