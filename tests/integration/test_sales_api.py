"""The sales service through its HTTP API, on real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

import httpx
import orjson
import pytest

from services.platform.kafka import make_producer
from services.platform.relay import OutboxRelay
from services.platform.relay_main import EVENTSTORE_SQL
from services.sales.application.access import lock_deal_owner
from services.sales.application.runtime import SalesRuntime
from services.sales.application.scheduler import fire_due_follow_ups
from services.sales.bootstrap import bootstrap
from services.sales.domain import opportunity as opp
from services.sales.entrypoints.http import create_app
from services.sales.migrations import SALES_STATE as SALES_SQL
from tests.kafka_helpers import read_topic

pytestmark = pytest.mark.integration
CNPJ = "11.222.333/0001-81"


async def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def events_count(runtime: SalesRuntime) -> int:
    return int(await runtime.pool.fetchval("SELECT count(*) FROM events"))


async def test_full_funnel_publishes_the_expected_events_in_order(infra, sales, topic_factory):
    http, runtime = sales
    lead = await ok(await http.post("/leads", json={
        "source": "web_form", "name": "José da Silva", "company": "Padaria São Jorge Ltda.",
        "emails": ["Jose.Silva@Padaria.com.br"], "phones": ["(11) 91234-5678"],
        "address": {"city": "São Paulo", "state": "SP", "country": "BR"},
    }), 201)  # fmt: skip
    assert lead["owner_id"] in {"seller-sp-01", "seller-sp-02", "seller-rj-01"}  # territory
    lead_id = lead["id"]
    await ok(await http.post(f"/leads/{lead_id}/qualify", json={"qualified_by": "sdr-1"}))
    draft = {"title": "Licenças CRM", "amount": {"amount": "30000.00", "currency": "BRL"}}
    converted = await ok(await http.post(f"/leads/{lead_id}/convert", json={"opportunity": draft}))
    customer, opportunity = converted["customer_id"], converted["opportunity_id"]
    assert customer == converted["account_id"]
    for stage in ("quote_requested", "proposal_sent", "renegotiation"):
        await ok(await http.post(f"/opportunities/{opportunity}/stage", json={"to_stage": stage}))
    quote = await ok(await http.post("/quotes", json={
        "customer_id": customer, "opportunity_id": opportunity, "price_list": "BRL-standard",
        "items": [{"product_id": "CRM-SEAT-ANNUAL", "quantity": "10", "discount_percent": "20"},
                  {"product_id": "ONBOARDING", "quantity": "1"}],
    }), 201)  # fmt: skip
    quote_id = quote["id"]
    # 20% is above the 15% threshold: neither the proposal nor an acceptance before approval.
    assert (await http.get(f"/quotes/{quote_id}/proposal.pdf")).status_code == 422
    refused = await http.post(f"/quotes/{quote_id}/accept")
    assert refused.status_code == 422 and refused.json()["type"].endswith("approval-required")
    await ok(await http.post(f"/quotes/{quote_id}/approve", json={"approved_by": "manager-1"}))
    pdf = await http.get(f"/quotes/{quote_id}/proposal.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    await ok(await http.post(f"/quotes/{quote_id}/accept"))
    await ok(await http.post(f"/opportunities/{opportunity}/stage", json={"to_stage": "won"}))
    placed = await ok(await http.post("/orders", json={"quote_id": quote_id}), 201)
    await ok(await http.post(f"/orders/{placed['id']}/deliver"))

    topic = await topic_factory()
    relay = OutboxRelay(runtime.pool, partial(make_producer, infra.kafka_bootstrap), topic)
    async with runtime.pool.acquire() as conn:
        while await relay.publish_batch(conn):
            pass
    await relay.close()
    expected = [
        "crm.sales.account_registered", "crm.sales.contact_registered",
        "crm.sales.opportunity_opened", "crm.sales.lead_converted",
        "crm.sales.deal_stage_changed", "crm.sales.deal_stage_changed",
        "crm.sales.deal_stage_changed",
        "crm.sales.quote_issued", "crm.sales.quote_approved", "crm.sales.quote_accepted",
        "crm.sales.deal_stage_changed", "crm.sales.opportunity_won", "crm.sales.order_placed",
        "crm.sales.purchase_made", "crm.sales.order_delivered",
    ]  # fmt: skip
    records = await read_topic(
        infra.kafka_bootstrap, topic,
        until=lambda rs: sum(r.key == customer.encode() for r in rs) >= len(expected),
    )  # fmt: skip
    mine = sorted((r for r in records if r.key == customer.encode()), key=lambda r: r.offset)
    bodies = [orjson.loads(r.value) for r in mine]
    assert [b["type"] for b in bodies] == expected
    purchase = bodies[-2]["data"]
    # 10 x 1499.00 - 20% = 11992.00 + 9.25% tax 1109.26; 8900.00 + 5% 445.00
    assert purchase["total"] == {"amount": "22446.26", "currency": "BRL"}
    # The prospect's own history stays under the lead's id; the conversion (above) belongs
    # to the new customer's.
    lead_events = [orjson.loads(r.value)["type"] for r in records if r.key == lead_id.encode()]
    assert lead_events == ["crm.sales.lead_captured", "crm.sales.lead_qualified"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/accounts", {"name": "ACME", "tax_id": "11.222.333/0001-82"}, "tax_id"),
        ("/contacts", {"first_name": "Ana", "phones": ["12345"]}, "phones[0]"),
        ("/contacts", {"first_name": "Ana", "emails": ["not-an-email"]}, "emails[0]"),
        ("/opportunities", {"customer_id": "c", "title": "t",
                            "amount": {"amount": "-1", "currency": "BRL"}}, "amount.amount"),
        ("/opportunities", {"customer_id": "c", "title": "t",
                            "amount": {"amount": "1", "currency": "XYZ"}}, "amount.currency"),
        ("/quotes", {"customer_id": "c", "price_list": "BRL-standard",
                     "items": [{"product_id": "NOPE", "quantity": "1"}]}, "items[0].product_id"),
    ],
)  # fmt: skip
async def test_bad_input_is_a_problem_document_naming_the_field_and_appends_nothing(
    sales, path, body, field
):
    http, runtime = sales
    before = await events_count(runtime)
    response = await http.post(path, json=body)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json().get("errors", [])], response.json()
    assert await events_count(runtime) == before


async def test_stage_rules_unknown_stage_and_missing_lost_reason(sales):
    http, runtime = sales
    opened = await ok(await http.post("/opportunities", json={
        "customer_id": "cust-1", "title": "Frota", "amount": {"amount": "10", "currency": "BRL"},
        "owner_id": "seller-x",
    }), 201)  # fmt: skip
    path = f"/opportunities/{opened['id']}/stage"
    before = await events_count(runtime)
    unknown = await http.post(path, json={"to_stage": "negotiating"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "to_stage"
    no_reason = await http.post(path, json={"to_stage": "lost", "lost_reason": "price"})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    stale = await http.post(path, json={"to_stage": "proposal_sent", "expected_version": 7})
    assert stale.status_code == 409
    assert await events_count(runtime) == before
    await ok(await http.post(path, json={"to_stage": "lost", "lost_reason": "competitor",
                                         "reason": "Escolheu outro fornecedor"}))  # fmt: skip
    closed = await http.post(path, json={"to_stage": "proposal_sent"})
    assert closed.status_code == 422
    await ok(await http.post(f"/opportunities/{opened['id']}/reopen",
                             json={"to_stage": "renegotiation", "reason": "voltou"}))  # fmt: skip
    state = await ok(await http.get(f"/opportunities/{opened['id']}"))
    assert state["stage"] == "renegotiation"


async def test_registration_finds_duplicates_and_merge_leaves_a_trail(sales):
    http, runtime = sales
    first = await ok(await http.post("/accounts", json={
        "name": "Padaria São Jorge", "tax_id": CNPJ, "emails": ["contato@padaria.com.br"],
    }), 201)  # fmt: skip
    # Same CNPJ without punctuation, another e-mail: the existing record answers.
    again = await ok(await http.post("/accounts", json={
        "name": "Padaria S. Jorge", "tax_id": "11222333000181",
    }))  # fmt: skip
    assert again["duplicate"] is True and again["id"] == first["id"]
    assert "tax:cnpj:11222333000181" in again["matched_on"][0]
    by_phone = await ok(await http.post("/contacts", json={
        "first_name": "José", "last_name": "da Silva", "phones": ["+55 11 91234-5678"],
        "account_id": first["id"],
    }), 201)  # fmt: skip
    dup_contact = await ok(await http.post("/contacts", json={
        "first_name": "Jose", "phones": ["(11) 91234-5678"],
    }))  # fmt: skip
    assert dup_contact["duplicate"] is True and dup_contact["id"] == by_phone["id"]
    other = await ok(await http.post("/accounts", json={"name": "Padaria Jorge (filial)"}), 201)
    merged = await ok(await http.post(f"/accounts/{other['id']}/merge", json={
        "survivor_id": first["id"], "reason": "mesma empresa",
    }))  # fmt: skip
    assert merged["survivor_id"] == first["id"]
    trail = await runtime.pool.fetchrow(
        "SELECT event_type, payload FROM events WHERE stream_id = $1 ORDER BY stream_version DESC",
        f"account-{other['id']}",
    )
    assert trail["event_type"] == "crm.sales.records_merged"
    assert orjson.loads(trail["payload"])["survivor_id"] == first["id"]
    again = await http.post(f"/accounts/{other['id']}/merge", json={"survivor_id": first["id"]})
    assert again.status_code == 422 and again.json()["type"].endswith("merged")


async def test_idempotency_key_returns_the_first_result_and_appends_nothing(sales):
    http, runtime = sales
    body = {"customer_id": "c-9", "kind": "call", "subject": "Retorno", "duration_minutes": 5}
    headers = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    first = await ok(await http.post("/activities", json=body, headers=headers), 201)
    count = await events_count(runtime)
    second = await ok(await http.post("/activities", json=body, headers=headers), 201)
    assert second["id"] == first["id"] and second["replayed"] is True
    assert await events_count(runtime) == count


async def test_assignment_by_territory_then_round_robin(sales):
    http, _ = sales
    owners = []
    for _ in range(4):
        opened = await ok(await http.post("/opportunities", json={
            "customer_id": "cust-anonymous", "title": "x",
            "amount": {"amount": "1", "currency": "BRL"},
        }), 201)  # fmt: skip
        owners.append(opened["owner_id"])
    # No territory known: the default team, in turn.
    assert owners == ["seller-inside-01", "seller-inside-02", "seller-inside-01",
                      "seller-inside-02"]  # fmt: skip
    account = await ok(await http.post("/accounts", json={
        "name": "Metalúrgica Gaúcha", "address": {"state": "RS", "country": "BR"},
    }), 201)  # fmt: skip
    opened = await ok(await http.post("/opportunities", json={
        "customer_id": account["id"], "title": "x", "amount": {"amount": "1", "currency": "BRL"},
    }), 201)  # fmt: skip
    assert opened["owner_id"] in {"seller-rs-01", "seller-pr-01"}
    reassigned = await ok(await http.post(f"/opportunities/{opened['id']}/assign",
                                          json={"owner_id": "seller-sp-01"}))  # fmt: skip
    assert len(reassigned["event_ids"]) == 1


async def test_follow_up_reminder_fires_once_when_due(sales):
    http, runtime = sales
    due = datetime.now(UTC) + timedelta(seconds=30)
    scheduled = await ok(await http.post("/follow-ups", json={
        "customer_id": "cust-7", "owner_id": "seller-sp-01", "subject": "Ligar de volta",
        "due_at": due.isoformat(),
    }), 201)  # fmt: skip
    assert await fire_due_follow_ups(runtime.pool, runtime.store) == 0  # not yet due
    later = due + timedelta(seconds=1)
    assert await fire_due_follow_ups(runtime.pool, runtime.store, now=later) == 1
    assert await fire_due_follow_ups(runtime.pool, runtime.store, now=later) == 0
    types = await runtime.pool.fetch(
        "SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_version",
        f"follow-up-{scheduled['id']}",
    )
    assert [t["event_type"] for t in types] == [
        "crm.sales.follow_up_scheduled", "crm.sales.follow_up_due",
    ]  # fmt: skip
    past = await http.post("/follow-ups", json={
        "customer_id": "cust-7", "owner_id": "s", "subject": "x",
        "due_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    })  # fmt: skip
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "due_at"


async def test_orders_direct_sale_and_lifecycle_rules(sales):
    http, _ = sales
    line = {"product_id": "CRM-SEAT", "quantity": "2",
            "line_total": {"amount": "299.80", "currency": "BRL"}}  # fmt: skip
    placed = await ok(await http.post("/orders", json={"customer_id": "c-1", "lines": [line]}), 201)
    order_id = placed["id"]
    early_return = await http.post(f"/orders/{order_id}/return", json={"reason": "x"})
    assert early_return.status_code == 422
    await ok(await http.post(f"/orders/{order_id}/deliver"))
    late_cancel = await http.post(f"/orders/{order_id}/cancel", json={"reason": "x"})
    assert late_cancel.status_code == 422
    await ok(await http.post(f"/orders/{order_id}/return",
                             json={"reason": "chegou com defeito", "defective": True}))  # fmt: skip
    state = await ok(await http.get(f"/orders/{order_id}"))
    assert state["total"] == {"amount": "299.80", "currency": "BRL"} or Decimal(
        str(state["total"]["amount"])
    ) == Decimal("299.80")


async def test_if_match_with_a_stale_version_is_a_conflict(sales):
    http, runtime = sales
    lead = await ok(await http.post("/leads", json={"source": "event", "name": "Ana Gómez",
                                                   "owner_id": "vendedor-ba-01"}), 201)  # fmt: skip
    before = await events_count(runtime)
    stale = await http.post(f"/leads/{lead['id']}/qualify", json={}, headers={"If-Match": "0"})
    assert stale.status_code == 409 and stale.json()["actual_version"] == 1
    garbage = await http.post(f"/leads/{lead['id']}/qualify", json={}, headers={"If-Match": "x"})
    assert garbage.status_code == 422
    assert await events_count(runtime) == before
    await ok(await http.post(f"/leads/{lead['id']}/qualify", json={}, headers={"If-Match": "1"}))


# --- races and edge cases found in review ---------------------------------------------------


async def test_many_concurrent_openings_without_owner_do_not_exhaust_the_pool(schema, pool_factory):
    import asyncio

    pool = await pool_factory(schema, EVENTSTORE_SQL, SALES_SQL, max_size=4)
    transport = httpx.ASGITransport(app=create_app(bootstrap(pool)))
    async with httpx.AsyncClient(transport=transport, base_url="http://sales") as http:
        body = {"customer_id": "c", "title": "t", "amount": {"amount": "1", "currency": "BRL"}}
        responses = await asyncio.wait_for(
            asyncio.gather(*(http.post("/opportunities", json=body) for _ in range(12))),
            timeout=30,
        )
    assert [r.status_code for r in responses] == [201] * 12


async def test_concurrent_registrations_sharing_identities_give_one_record_and_no_500(sales):
    import asyncio

    http, runtime = sales
    for round_ in range(6):
        p, q, r = (f"{x}{round_}@ex.com.br" for x in "pqr")
        orders = [[p, q, r], [r, q, p], [q, r, p], [p, r, q]] * 3
        responses = await asyncio.gather(
            *(http.post("/contacts", json={"first_name": "Ana", "emails": e}) for e in orders)
        )
        assert sorted(r.status_code for r in responses) == [200] * 11 + [201], [
            r.text for r in responses if r.status_code >= 300
        ]
        assert len({r.json()["id"] for r in responses}) == 1
    assert (
        await runtime.pool.fetchval(
            "SELECT count(*) FROM events WHERE event_type = 'crm.sales.contact_registered'"
        )
        == 6
    )


async def test_two_records_merging_into_each_other_at_once_leave_one_survivor(sales):
    import asyncio

    http, runtime = sales
    for _ in range(8):
        a = await ok(await http.post("/accounts", json={"name": "A Ltda"}), 201)
        b = await ok(await http.post("/accounts", json={"name": "B Ltda"}), 201)
        responses = await asyncio.gather(
            http.post(f"/accounts/{a['id']}/merge", json={"survivor_id": b["id"]}),
            http.post(f"/accounts/{b['id']}/merge", json={"survivor_id": a["id"]}),
        )
        assert sorted(r.status_code for r in responses) == [200, 422]
    merged = await runtime.pool.fetchval(
        "SELECT count(*) FROM events WHERE event_type = 'crm.sales.records_merged'"
    )
    assert merged == 8


async def test_merge_moves_identities_to_the_survivor(sales):
    http, _ = sales
    survivor = await ok(await http.post("/contacts", json={"first_name": "Ana"}), 201)
    merged = await ok(await http.post("/contacts", json={
        "first_name": "Ana M.", "emails": ["ana@ex.com.ar"],
    }), 201)  # fmt: skip
    await ok(await http.post(f"/contacts/{merged['id']}/merge",
                             json={"survivor_id": survivor["id"]}))  # fmt: skip
    again = await ok(await http.post("/contacts", json={
        "first_name": "Ana", "emails": ["ANA@ex.com.ar"],
    }))  # fmt: skip
    assert again["duplicate"] is True and again["id"] == survivor["id"]


async def test_converting_a_lead_who_is_already_a_contact_creates_no_copy(sales):
    http, runtime = sales
    existing = await ok(await http.post("/contacts", json={
        "first_name": "José", "emails": ["jose@padaria.com.br"],
    }), 201)  # fmt: skip
    lead = await ok(await http.post("/leads", json={
        "source": "referral", "name": "José Silva", "company": "Padaria",
        "emails": ["JOSE@padaria.com.br"], "owner_id": "seller-1",
    }), 201)  # fmt: skip
    await ok(await http.post(f"/leads/{lead['id']}/qualify", json={}))
    draft = {"title": "Pães", "amount": {"amount": "10", "currency": "BRL"}}
    converted = await ok(await http.post(f"/leads/{lead['id']}/convert",
                                         json={"opportunity": draft}))  # fmt: skip
    assert converted["contact_id"] == existing["id"]
    assert converted["customer_id"] == existing["customer_id"]
    assert converted["account_id"] is None
    registered = await runtime.pool.fetchval(
        "SELECT count(*) FROM events WHERE event_type IN "
        "('crm.sales.account_registered', 'crm.sales.contact_registered')"
    )
    assert registered == 1  # only the original contact


async def test_an_accepted_quote_becomes_at_most_one_order(sales):
    http, _ = sales
    q = await ok(await http.post("/quotes", json={
        "customer_id": "c-1", "price_list": "BRL-standard",
        "items": [{"product_id": "CRM-SEAT", "quantity": "1"}],
    }), 201)  # fmt: skip
    await ok(await http.post(f"/quotes/{q['id']}/accept"))
    await ok(await http.post("/orders", json={"quote_id": q["id"]}), 201)
    second = await http.post("/orders", json={"quote_id": q["id"]})
    assert second.status_code == 409


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/follow-ups", {"customer_id": "c", "owner_id": "o", "subject": "s",
                         "due_at": "9999-12-31T23:59:59-12:00"}, "due_at"),
        ("/activities", {"customer_id": "c", "kind": "call", "subject": "s",
                         "happened_at": "0001-01-01T00:00:00+14:00"}, "happened_at"),
        ("/opportunities", {"customer_id": "c", "title": "t", "owner_id": "  ",
                            "amount": {"amount": "1", "currency": "BRL"}}, "owner_id"),
        ("/opportunities", {"customer_id": "   ", "title": "t",
                            "amount": {"amount": "1", "currency": "BRL"}}, "customer_id"),
        ("/quotes", {"customer_id": "c-2", "price_list": "BRL-standard",
                     "opportunity_id": str(uuid.uuid4()),
                     "items": [{"product_id": "CRM-SEAT", "quantity": "1"}]}, "opportunity_id"),
    ],
)  # fmt: skip
async def test_edge_inputs_are_refused_on_their_field(sales, path, body, field):
    http, runtime = sales
    before = await events_count(runtime)
    response = await http.post(path, json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await events_count(runtime) == before


async def test_an_idempotency_key_answers_only_the_request_it_was_used_for(sales):
    http, runtime = sales
    key = {"Idempotency-Key": "shared-1"}
    body = {"customer_id": "c", "kind": "note", "subject": "Nota"}
    await ok(await http.post("/activities", json=body, headers=key), 201)
    other_body = await http.post("/activities", json={**body, "subject": "Outra"}, headers=key)
    assert other_body.status_code == 422
    assert other_body.json()["errors"][0]["field"] == "Idempotency-Key"
    lead = await ok(await http.post("/leads", json={"source": "event", "name": "Eva",
                                                   "owner_id": "s"}, headers=key), 201)  # fmt: skip
    assert lead["replayed"] is False  # another route: the key means something else there
    assert await events_count(runtime) == 2


async def test_a_quote_command_waits_for_a_reassignment_in_flight_and_sees_it(sales):
    """The team rule on a deal's quote is checked against the owner the command acts
    under: a reassignment committing meanwhile is waited for, then seen (403)."""
    http, runtime = sales
    mate = {"X-Actor-Id": "seller-sp-02", "X-Actor-Role": "seller", "X-Actor-Team": "sudeste"}
    deal = await ok(await http.post("/opportunities", json={
        "customer_id": "c-race", "title": "Licenças", "owner_id": "seller-sp-01",
        "amount": {"amount": "1000.00", "currency": "BRL"},
    }), 201)  # fmt: skip
    deal_id = uuid.UUID(deal["id"])
    issued = await ok(await http.post("/quotes", headers=mate, json={
        "customer_id": "c-race", "price_list": "BRL-standard", "opportunity_id": deal["id"],
        "items": [{"product_id": "CRM-SEAT", "quantity": "1"}],
    }), 201)  # fmt: skip
    quote_url = f"/quotes/{issued['id']}"
    await ok(await http.get(quote_url, headers=mate))  # the deal is the mate's team's
    async with runtime.pool.acquire() as conn, conn.transaction():
        # A reassignment to another team, in flight: it holds the deal's owner.
        await lock_deal_owner(conn, deal_id, shared=False)
        accept = asyncio.create_task(http.post(f"{quote_url}/accept", headers=mate))
        waiting = 0
        for _ in range(500):
            waiting = await runtime.pool.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            if waiting or accept.done():
                break
            await asyncio.sleep(0.02)
        assert waiting == 1 and not accept.done()  # the accept waits for the owner
        state, version = await runtime.load(opp.decider, opp.stream_id(deal_id))
        moved = opp.decider.decide(opp.AssignOpportunity(deal_id, "seller-rs-01", "manual"), state)
        await runtime.store.append(opp.stream_id(deal_id), version, moved, connection=conn)
    refused = await accept
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("forbidden-team")
    quote = await ok(await http.get(quote_url))
    assert quote["accepted"] is False and quote["version"] == 1  # nothing appended


# --- consistency tokens minted by the service --------------------------------------------------


async def test_a_command_answers_with_a_consistency_token_naming_its_events(sales):
    from services.platform.tokens import read_consistency_token

    http, _ = sales
    body = {"source": "web_form", "name": "Ana Souza", "owner_id": "seller-sp-01"}
    headers = {"Idempotency-Key": "token-1"}
    first = await http.post("/leads", json=body, headers=headers)
    answer = await ok(first, 201)
    assert answer["event_ids"]  # a capture appends its event
    assert read_consistency_token(answer["consistency_token"]) == (
        "/crm/sales",
        answer["event_ids"],
    )
    assert first.headers["x-consistency-token"] == answer["consistency_token"]
    replay = await http.post("/leads", json=body, headers=headers)
    assert (await ok(replay, 201))["consistency_token"] == answer["consistency_token"]
    assert replay.headers["x-consistency-token"] == answer["consistency_token"]


# --- the owner's team on the deal's events -------------------------------------------------------


async def test_deal_events_carry_the_owners_team_from_the_assignment_rules(sales):
    http, runtime = sales
    body = {"customer_id": "c-team", "title": "t", "amount": {"amount": "1", "currency": "BRL"}}
    deal = await ok(
        await http.post("/opportunities", json={**body, "owner_id": "seller-sp-01"}), 201
    )
    await ok(
        await http.post(f"/opportunities/{deal['id']}/assign", json={"owner_id": "seller-rs-01"})
    )
    by_rules = await ok(await http.post("/opportunities", json=body), 201)
    rows = await runtime.pool.fetch(
        "SELECT stream_id, event_type, payload->>'owner_team' AS owner_team, "
        "payload->>'team' AS team FROM events WHERE stream_id = ANY($1::text[]) "
        "ORDER BY global_position",
        [deal["stream_id"], by_rules["stream_id"]],
    )
    # config/assignment.json: seller-sp-01 sells in "sudeste", seller-rs-01 in "sul"; a customer
    # without an address goes to the default team, "inside-sales".
    assert [(r["stream_id"], r["event_type"], r["owner_team"], r["team"]) for r in rows] == [
        (deal["stream_id"], "crm.sales.opportunity_opened", "sudeste", None),
        (deal["stream_id"], "crm.sales.opportunity_assigned", None, "sul"),
        (by_rules["stream_id"], "crm.sales.opportunity_opened", None, None),
        (by_rules["stream_id"], "crm.sales.opportunity_assigned", None, "inside-sales"),
    ]
