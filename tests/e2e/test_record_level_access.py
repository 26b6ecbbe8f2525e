"""Record-level access holds in every field a reader gets, through the gateway.

A seller of the sudeste team opens a deal and works it; a seller of the sul team then
reads the customer's 360 view, timeline, search hits and live timeline. Nothing of the
deal may show in any of them: not its id, not its title, not its amount, not in a
derived field (the 360 view's last interaction once gave the title and the amount).
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from services.gateway.reads import encode_position
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e

TITLE = f"Balcão secreto {uuid.uuid4().hex[:6]}"
AMOUNT = {"amount": "9137.00", "currency": "BRL"}
AMOUNT_TEXTS = ("9137", "9,137", "9.137")


async def ok(answer: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    return answer.json()


@pytest.mark.timeout(400)
async def test_a_seller_of_another_team_finds_nothing_of_the_deal_anywhere(system) -> None:
    keys = system["keys"]
    owner = {"Authorization": f"Bearer {keys.issue('seller-sp-01', 'seller', team='sudeste')}"}
    other = {"Authorization": f"Bearer {keys.issue('seller-rs-01', 'seller', team='sul')}"}
    name = f"Mercearia Sigilo {uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=system["gateway"], timeout=30) as http:

        async def step(path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
            return await ok(await http.post(path, json=body, headers=owner), status)

        account = await step("/v1/accounts", {"name": name}, 201)
        customer = account["customer_id"]
        deal = await step("/v1/opportunities", {
            "customer_id": customer, "title": TITLE, "amount": AMOUNT,
        }, 201)  # fmt: skip
        await step(f"/v1/opportunities/{deal['id']}/stage", {"to_stage": "quote_requested"})
        await step("/v1/activities", {
            "customer_id": customer, "kind": "call", "subject": f"Ligação: {TITLE}",
            "related": {"opportunity_id": deal["id"]},
            # the customer's latest interaction by far: the 360 view's summary of it
            # is what once showed the deal to other teams
            "happened_at": "2030-01-01T00:00:00Z",
        }, 201)  # fmt: skip
        last = await step("/v1/activities", {
            "customer_id": customer, "kind": "note", "subject": "Visita à loja",
        }, 201)  # fmt: skip
        token = last["consistency_token"]

        def shows_the_deal(answer: Any) -> list[str]:
            text = orjson.dumps(answer).decode()
            secrets = (deal["id"], TITLE, *AMOUNT_TEXTS)
            return [secret for secret in secrets if secret in text]

        async def read_models_on_this_layout() -> bool:
            # A projector started on a new layout rebuilds it before it swaps it in; the
            # gateway answers 503 (Retry-After) until then. Wait for that, then no 5xx.
            for path in (f"/v1/customers/{customer}", f"/v1/customers/{customer}/timeline"):
                answer = await http.get(path, params={"wait_for": token}, headers=owner)
                if answer.status_code == 503:
                    return False
            return True

        assert await wait_for(read_models_on_this_layout, timeout=240)
        # The owner sees it all: the checks below are not vacuous.
        mine = await ok(await http.get(f"/v1/customers/{customer}",
                                       params={"wait_for": token}, headers=owner))  # fmt: skip
        assert shows_the_deal(mine)
        assert TITLE in mine["last_interaction_summary"]

        view = await ok(await http.get(f"/v1/customers/{customer}",
                                       params={"wait_for": token}, headers=other))  # fmt: skip
        assert view["display_name"] == name
        assert view["last_interaction_summary"] == "Note: Visita à loja"
        assert shows_the_deal(view) == []

        page = await ok(await http.get(
            f"/v1/customers/{customer}/timeline",
            params={"wait_for": token, "limit": 100}, headers=other,
        ))  # fmt: skip
        assert page["read_your_writes"] == "applied"
        assert page["entries"][0]["summary"] == "Note: Visita à loja"
        assert shows_the_deal(page) == []

        hits = await ok(await http.get("/v1/search", params={"q": name}, headers=other))
        assert [h["customer_id"] for h in hits["hits"]][:1] == [customer]
        assert shows_the_deal(hits) == []

        # The live timeline from the start: every entry is streamed in order, so once the
        # last note arrives every entry of the deal has been through the filter.
        start = encode_position((datetime(2000, 1, 1, tzinfo=UTC), "", ""))
        chunks: list[str] = []

        async def note_streamed() -> bool:
            async with http.stream(
                "GET", f"/v1/customers/{customer}/timeline/stream",
                headers={**other, "Last-Event-ID": start},
            ) as stream:  # fmt: skip
                assert stream.status_code == 200
                async for chunk in stream.aiter_text():
                    chunks.append(chunk)
                    if "Visita à loja" in "".join(chunks):
                        return True
            return False

        with contextlib.suppress(httpx.ReadError):
            assert await wait_for(note_streamed, timeout=60)
        streamed = "".join(chunks)
        assert "Account registered" in streamed
        assert shows_the_deal(streamed) == []
