"""Proof of erasure: a customer with a distinctive name, tax id, phone and e-mail, given
deals, orders, activities, a merge and other systems' events, is erased through the
gateway; then no table of any schema, no byte of any topic (dead letters included) and no
log file holds any of the four in plain text, another customer is intact, and a rebuild
of the read models from offset 0 gives the same erased rows."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from stdnum.br import cpf

from tests.e2e.conftest import E2E_API_KEY, ROOT, wait_for
from tests.privacy_scan import logs_holding, tables_holding, topics_holding

pytestmark = pytest.mark.e2e


def _person(tag: str) -> dict[str, str]:
    base = f"{random.randrange(10**8, 10**9)}"
    digits = f"{random.randrange(10**7, 10**8)}"
    return {
        "last_name": f"Quaresma{tag}",
        "tax_id": next(base + f"{d:02d}" for d in range(100) if cpf.is_valid(base + f"{d:02d}")),
        "phone": f"+55119{digits}",
        "email": f"zuleica.{tag}@exemplo.com.br",
    }


async def _ok(answer: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _register_history(http: httpx.AsyncClient, seller: dict[str, str],
                            who: dict[str, str]) -> tuple[str, str]:  # fmt: skip
    """The person registered twice (then merged), with a deal, an order, an activity."""
    contact = await _ok(await http.post("/v1/contacts", headers=seller, json={
        "first_name": "Zuleica", "last_name": who["last_name"], "tax_id": who["tax_id"],
        "tax_country": "BR", "phones": [who["phone"]], "emails": [who["email"]],
        "address": {"street": f"Rua {who['last_name']}, 12", "city": "Santos",
                    "state": "SP", "country": "BR"},
    }), 201)  # fmt: skip
    customer = contact["customer_id"]
    duplicate = await _ok(await http.post("/v1/contacts", headers=seller, json={
        "first_name": "Zuleica", "last_name": f"{who['last_name']} Tavares",
    }), 201)  # fmt: skip
    await _ok(await http.post(f"/v1/contacts/{duplicate['id']}/merge", headers=seller,
                              json={"survivor_id": contact["id"],
                                    "reason": f"same person: {who['email']}"}))  # fmt: skip
    deal = await _ok(await http.post("/v1/opportunities", headers=seller, json={
        "customer_id": customer, "title": f"Apartamento de {who['last_name']}",
        "amount": {"amount": "350000.00", "currency": "BRL"},
    }), 201)  # fmt: skip
    await _ok(await http.post("/v1/orders", headers=seller, json={
        "customer_id": customer, "opportunity_id": deal["id"],
        "lines": [{"product_id": "sku-1", "description": "Sinal", "quantity": "1",
                   "line_total": {"amount": "35000.00", "currency": "BRL"}}],
    }), 201)  # fmt: skip
    await _ok(await http.post("/v1/activities", headers=seller, json={
        "customer_id": customer, "kind": "call",
        "subject": f"Ligação para {who['phone']}", "notes": f"CPF {who['tax_id']} confirmado",
    }), 201)  # fmt: skip
    return customer, duplicate["customer_id"]


async def _external_events(http: httpx.AsyncClient, customer: str, who: dict[str, str]) -> None:
    integration = {"X-API-Key": E2E_API_KEY}
    now = datetime.now(UTC).isoformat()
    answer = await _ok(await http.post("/v1/events", headers=integration, json=[
        {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "urn:shop:loja-9",
         "type": "crm.sales.purchase_made", "time": now, "customerid": customer,
         "data": {"order_id": str(uuid.uuid4()), "customer_id": customer,
                  "total": {"amount": "19.90", "currency": "BRL"}, "channel": "web"}},
        {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "urn:pbx:central",
         "type": "crm.sales.activity_logged", "time": now, "customerid": customer,
         "data": {"activity_id": str(uuid.uuid4()), "customer_id": customer, "kind": "call",
                  "subject": f"Chamada de {who['phone']}", "happened_at": now,
                  "notes": f"pediu para escrever a {who['email']}"}},
    ]))  # fmt: skip
    assert answer["accepted"] == 2, answer


async def _rows(conn: asyncpg.Connection, customer: str) -> dict[str, Any]:
    """The subject's read-model rows, minus when they were written."""
    entries = await conn.fetch(
        "SELECT event_source, event_id, customer_id, named_customer_id, occurred_at, "
        "event_type, summary, actor, links::text, payload::text, deal_owner, deal_team "
        "FROM timeline.timeline_entries WHERE customer_id = $1 ORDER BY sort_key",
        customer,
    )
    profile = await conn.fetchrow(
        "SELECT profile::text, display_name, search_text, phones_digits, tax_numbers, emails, "
        "city, lifecycle, merged_into FROM customer360.customer_profiles "
        "WHERE customer_id = $1", customer,
    )  # fmt: skip
    return {"timeline": [dict(r) for r in entries], "profile": dict(profile or {})}


def _rebuild(name: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "projections", "rebuild", name, "--max-lag", "0"],
        env=env, cwd=ROOT, capture_output=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-3000:]


@pytest.mark.timeout(900)
async def test_an_erased_customer_leaves_no_plain_trace_anywhere(infra, system) -> None:
    tag = uuid.uuid4().hex[:8]
    who, bystander = _person(tag), _person(f"b{tag}")
    keys = system["keys"]
    seller = {
        "Authorization": f"Bearer {keys.issue('manager-sp', 'sales_manager', team='sudeste')}"
    }
    officer = {"Authorization": f"Bearer {keys.issue('dpo-ana', 'privacy_officer')}"}
    async with httpx.AsyncClient(base_url=system["gateway"], timeout=30) as http:
        customer, merged = await _register_history(http, seller, who)
        other, _ = await _register_history(http, seller, bystander)
        await _external_events(http, customer, who)

        conn = await asyncpg.connect(infra.database_url)
        try:

            async def projected() -> bool:
                count = await conn.fetchval(
                    "SELECT count(*) FROM timeline.timeline_entries WHERE customer_id = $1",
                    customer,
                )
                return int(count) >= 9  # 2 registrations, merge, deal+assignment, order, 3 calls…

            await wait_for(projected, timeout=120)
            needles = [who["last_name"], who["tax_id"], who["phone"].lstrip("+"), who["email"]]
            # The scanner sees the person where the read models keep them in plain text.
            before = await tables_holding(conn, needles)
            profiles = [hits for table, hits in before.items()
                        if table.endswith('."customer_profiles"')]  # fmt: skip
            assert any(set(hits) == {n.lower() for n in needles} for hits in profiles), before
            refused = await http.post("/v1/privacy/erasures", headers=seller,
                                      json={"subject_id": customer})  # fmt: skip
            assert refused.status_code == 403
            erasure = await _ok(await http.post("/v1/privacy/erasures", headers=officer,
                                                json={"subject_id": customer}), 202)  # fmt: skip
            assert merged in erasure["also_erased"]

            async def completed() -> dict[str, Any] | None:
                state = await _ok(await http.get(f"/v1/privacy/erasures/{erasure['id']}",
                                                 headers=officer))  # fmt: skip
                return state if state["status"] == "completed" else None

            await wait_for(completed, timeout=120)
            again = await http.post("/v1/privacy/erasures", headers=officer,
                                    json={"subject_id": customer})  # fmt: skip
            assert again.status_code == 409

            assert await tables_holding(conn, needles) == {}
            assert await topics_holding(infra.kafka_bootstrap, needles) == {}
            logs = sorted((system["state"] / "logs").glob("*.log"))
            assert logs, "the processes wrote their logs"
            assert logs_holding(logs, needles) == {}

            # Another customer is intact and readable; the fiscal record stays.
            kept = await conn.fetchval(
                "SELECT search_text FROM customer360.customer_profiles WHERE customer_id = $1",
                other,
            )
            assert bystander["last_name"] in kept and bystander["email"] in kept
            view = await _ok(await http.get(f"/v1/customers/{customer}", headers=seller))
            assert bystander["last_name"] not in orjson.dumps(view).decode()
            erased_rows = await _rows(conn, customer)
            assert erased_rows["timeline"] and erased_rows["profile"]
            orders = [e for e in erased_rows["timeline"]
                      if e["event_type"] == "crm.sales.order_placed"]  # fmt: skip
            assert "35000.00" in orders[0]["payload"]

            env = {
                **os.environ, "CRM_DATABASE_URL": infra.database_url,
                "CRM_KAFKA_BOOTSTRAP": infra.kafka_bootstrap, "PYTHONPATH": str(ROOT),
            }  # fmt: skip
            await asyncio.to_thread(_rebuild, "timeline", env)
            await asyncio.to_thread(_rebuild, "customer360", env)
            assert await _rows(conn, customer) == erased_rows
        finally:
            await conn.close()
