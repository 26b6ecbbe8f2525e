"""The gateway in front of the real sales service, Kafka and PostgreSQL.

Authentication (tokens and API keys, expired and tampered ones), the team rule for deals,
rate and size limits, problem documents for every kind of bad request, correlation ids,
and publishing by other systems. The role matrix: ``test_gateway_roles.py``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import orjson
import pytest
import yarl

from services.gateway.app import create_app, documented_routes, unguarded_routes
from services.gateway.auth import AUDIENCE, ISSUER, KeyRing
from services.gateway.middleware import RateLimiter
from services.gateway.policy import MATRIX
from tests.gateway_stack import Stack, gateway_stack
from tests.kafka_helpers import read_topic

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(infra, schema, topic_factory) -> AsyncIterator[Stack]:
    # one partition: what the gateway publishes is read back in the order it was sent, so
    # a marker sent last proves that nothing else was published before it
    topic = await topic_factory("external", partitions=1)
    # many deliberate 401s below: the slowing down of guesses has a test of its own
    async with gateway_stack(
        infra.database_url, infra.kafka_bootstrap, schema, events_topic=topic,
        failed_auth_burst=10_000,
    ) as running:  # fmt: skip
        yield running


def purchase_event(customer: str = "customer-42", **overrides: Any) -> dict[str, Any]:
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "urn:shop:loja-1",
        "type": "crm.sales.purchase_made",
        "time": "2026-11-25T10:00:00Z",
        "data": {
            "order_id": str(uuid.uuid4()),
            "customer_id": customer,
            "total": {"amount": "99.90", "currency": "BRL"},
            "channel": "web",
        },
    }
    event.update(overrides)
    return event


# ------------------------------------------------------------------ authentication
async def test_every_route_but_health_and_docs_needs_credentials(stack: Stack) -> None:
    app = create_app()
    assert unguarded_routes(app) == []
    assert {r for r in documented_routes(app) if " /v1/" in r} == set(MATRIX)
    async with stack.client() as http:
        for route_key in MATRIX:
            method, path = route_key.split(" ", 1)
            url = path.format_map(_Ids())
            answer = await http.request(method, url, json={})
            assert answer.status_code == 401, (route_key, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert "Bearer" in answer.headers["www-authenticate"]
        assert (await http.get("/openapi.json")).status_code == 200
        assert (await http.get("/asyncapi.json")).json()["asyncapi"].startswith("3.")


async def test_expired_tampered_and_foreign_tokens_are_refused(stack: Stack) -> None:
    good = stack.token("analyst")
    header, payload, signature = good.split(".")
    claims = orjson.loads(jwt.utils.base64url_decode(payload))
    claims["role"] = "admin"
    tampered = ".".join([header, jwt.utils.base64url_encode(orjson.dumps(claims)).decode(),
                         signature])  # fmt: skip
    expired = stack.keys.issue("u", "analyst", ttl_seconds=60, now=time.time() - 3600)
    foreign = KeyRing({"test-1": "someone-elses-key-of-enough-length-12345"}, "test-1").issue(
        "u", "admin"
    )
    unknown_kid = KeyRing({"other": "a-test-signing-key-of-enough-length-1234"}, "other").issue(
        "u", "admin"
    )
    wrong_audience = jwt.encode(
        {"sub": "u", "role": "admin", "iss": ISSUER, "aud": "another-api",
         "iat": int(time.time()), "exp": int(time.time()) + 60},
        "a-test-signing-key-of-enough-length-1234", algorithm="HS256",
        headers={"kid": "test-1"},
    )  # fmt: skip
    no_role = jwt.encode(
        {"sub": "u", "iss": ISSUER, "aud": AUDIENCE, "iat": int(time.time()),
         "exp": int(time.time()) + 60},
        "a-test-signing-key-of-enough-length-1234", algorithm="HS256",
        headers={"kid": "test-1"},
    )  # fmt: skip
    async with stack.client() as http:
        assert (await http.get("/v1/pipeline", headers=_bearer(good))).status_code == 200
        for name, token in [("tampered", tampered), ("expired", expired), ("foreign", foreign),
                            ("unknown kid", unknown_kid), ("audience", wrong_audience),
                            ("no role", no_role), ("garbage", "not.a.token")]:  # fmt: skip
            answer = await http.get("/v1/pipeline", headers=_bearer(token))
            assert answer.status_code == 401, name
            assert answer.json()["status"] == 401
        answer = await http.get("/v1/pipeline", headers=_bearer(expired))
        assert answer.json()["detail"] == "token expired"


async def test_key_rotation_keeps_old_tokens_valid_until_the_old_key_is_removed(
    stack: Stack,
) -> None:
    before = stack.token("analyst")
    new_kid = stack.keys.rotate()
    after = stack.token("analyst")
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    async with stack.client() as http:
        for token in (before, after):
            assert (await http.get("/v1/pipeline", headers=_bearer(token))).status_code == 200
        del stack.keys.keys["test-1"]
        assert (await http.get("/v1/pipeline", headers=_bearer(before))).status_code == 401
        assert (await http.get("/v1/pipeline", headers=_bearer(after))).status_code == 200


async def test_api_keys_publish_events_and_nothing_else(stack: Stack, infra) -> None:
    _, key = stack.keys.create_api_key("shop", "integration")
    event = purchase_event()
    async with stack.client() as http:
        answer = await http.post("/v1/events", json=event, headers={"X-API-Key": key})
        assert answer.status_code == 200, answer.text
        assert answer.json()["results"] == [
            {"index": 0, "id": event["id"], "source": "urn:shop:loja-1", "status": "accepted",
             "problem": None}
        ]  # fmt: skip
        as_header = await http.post(
            "/v1/events", json=purchase_event(), headers={"Authorization": f"ApiKey {key}"}
        )
        assert as_header.status_code == 200
        assert (await http.get("/v1/pipeline", headers={"X-API-Key": key})).status_code == 403
        assert (await http.get("/v1/search?q=x", headers={"X-API-Key": key})).status_code == 403
        wrong = await http.post("/v1/events", json=event, headers={"X-API-Key": key + "x"})
        assert wrong.status_code == 401
    records = await read_topic(
        infra.kafka_bootstrap, stack.runtime.settings.events_topic, until=lambda r: len(r) >= 2
    )
    published = orjson.loads(records[0].value)
    assert published["id"] == event["id"]
    assert published["customerid"] == "customer-42"  # filled in from the data: the key
    assert records[0].key == b"customer-42"


class _Ids(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "customer-1" if key == "customer_id" else str(uuid.UUID(int=7))


# ----------------------------------------------------------------------- team rule
async def test_a_seller_cannot_touch_another_teams_opportunities(stack: Stack) -> None:
    admin = stack.headers("admin", "admin-1")
    async with stack.client() as http:
        account = (await http.post("/v1/accounts", json={"name": "Padaria Sol"},
                                   headers=admin)).json()  # fmt: skip
        opened = await http.post("/v1/opportunities", headers=admin, json={
            "customer_id": account["customer_id"], "title": "Licenças",
            "amount": {"amount": "1000.00", "currency": "BRL"}, "owner_id": "seller-sp-01",
        })  # fmt: skip
        assert opened.status_code == 201, opened.text
        deal = opened.json()["id"]
        sp_mate = stack.headers("seller", "seller-sp-02", "sudeste")
        sul_seller = stack.headers("seller", "seller-rs-01", "sul")
        sul_manager = stack.headers("sales_manager", "manager-sul", "sul")
        sp_manager = stack.headers("sales_manager", "manager-sp", "sudeste")
        for who in (sul_seller, sul_manager):
            assert (await http.get(f"/v1/opportunities/{deal}", headers=who)).status_code == 403
            moved = await http.post(f"/v1/opportunities/{deal}/stage", headers=who,
                                    json={"to_stage": "quote_requested"})  # fmt: skip
            assert moved.status_code == 403
            assert moved.json()["type"].endswith("forbidden-team")
        assert (await http.get(f"/v1/opportunities/{deal}", headers=sp_mate)).status_code == 200
        # quotes on the deal belong to its team too
        quote_body = {"customer_id": account["customer_id"], "opportunity_id": deal,
                      "price_list": "BRL-standard",
                      "items": [{"product_id": "ONBOARDING", "quantity": "1"}]}  # fmt: skip
        issued = await http.post("/v1/quotes", json=quote_body, headers=sp_mate)
        assert issued.status_code == 201, issued.text
        quote_url = f"/v1/quotes/{issued.json()['id']}"
        assert (await http.get(quote_url, headers=sp_mate)).status_code == 200
        assert (await http.get(quote_url, headers=sul_seller)).status_code == 403
        assert (await http.post(f"{quote_url}/accept", headers=sul_seller)).status_code == 403
        # ... and so do orders from its quotes, or placed against the deal
        accepted = await http.post(f"{quote_url}/accept", headers=sp_mate)
        assert accepted.status_code == 200, accepted.text
        from_quote = {"quote_id": issued.json()["id"]}
        assert (await http.post("/v1/orders", json=from_quote,
                                headers=sul_seller)).status_code == 403  # fmt: skip
        direct = {"customer_id": account["customer_id"], "opportunity_id": deal, "lines": [
            {"product_id": "CRM-SEAT", "quantity": "1",
             "line_total": {"amount": "100.00", "currency": "BRL"}}]}  # fmt: skip
        assert (await http.post("/v1/orders", json=direct,
                                headers=sul_seller)).status_code == 403  # fmt: skip
        assert (await http.post("/v1/orders", json=from_quote,
                                headers=sp_mate)).status_code == 201  # fmt: skip
        assert (await http.post("/v1/quotes", json=quote_body,
                                headers=sul_seller)).status_code == 403  # fmt: skip
        moved = await http.post(f"/v1/opportunities/{deal}/stage", headers=sp_mate,
                                json={"to_stage": "quote_requested"})  # fmt: skip
        assert moved.status_code == 200, moved.text
        reassign = await http.post(f"/v1/opportunities/{deal}/assign", headers=sp_manager,
                                   json={"owner_id": "seller-rs-01"})  # fmt: skip
        assert reassign.status_code == 403  # not someone of the manager's team
        reassign = await http.post(f"/v1/opportunities/{deal}/assign", headers=sp_manager,
                                   json={"owner_id": "seller-rj-01"})  # fmt: skip
        assert reassign.status_code == 200
        # a seller's new deal is their own; opening one for someone else is refused
        mine = await http.post("/v1/opportunities", headers=sul_seller, json={
            "customer_id": account["customer_id"], "title": "Outra",
            "amount": {"amount": "10.00", "currency": "BRL"},
        })  # fmt: skip
        assert mine.status_code == 201
        state = await http.get(f"/v1/opportunities/{mine.json()['id']}", headers=sul_seller)
        assert state.json()["owner_id"] == "seller-rs-01"
        theirs = await http.post("/v1/opportunities", headers=sul_seller, json={
            "customer_id": account["customer_id"], "title": "Outra",
            "amount": {"amount": "10.00", "currency": "BRL"}, "owner_id": "seller-sp-01",
        })  # fmt: skip
        assert theirs.status_code == 403


# ------------------------------------------------------------------ limits, errors
async def test_rate_limit_answers_429_with_retry_after(infra, schema) -> None:
    now = [1_000.0]  # the limiter's clock: time passes only when the test says so
    async with gateway_stack(infra.database_url, infra.kafka_bootstrap, schema) as small:
        small.runtime.limiter = RateLimiter(0.5, 3, clock=lambda: now[0])
        headers = small.headers("analyst")
        async with small.client() as http:
            answers = [await http.get("/v1/pipeline", headers=headers) for _ in range(4)]
            other = await http.get("/v1/pipeline", headers=small.headers("analyst", "user-2"))
            now[0] += 2.0  # one token back, at 0.5 a second
            refilled = [await http.get("/v1/pipeline", headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].headers["retry-after"] == "2"  # the one missing token, at 0.5 a second
    assert answers[-1].json()["type"].endswith("rate-limited")
    assert other.status_code == 200  # per client
    assert [a.status_code for a in refilled] == [200, 429]


async def test_guessing_credentials_is_slowed_down(infra, schema) -> None:
    now = [1_000.0]  # the limiter's clock, as in the rate limit's test
    async with gateway_stack(infra.database_url, infra.kafka_bootstrap, schema) as small:
        small.runtime.failed_auth = RateLimiter(0.5, 3, clock=lambda: now[0])
        async with small.client() as http:
            guesses = [
                await http.get("/v1/pipeline", headers={"Authorization": f"Bearer guess-{n}"})
                for n in range(4)
            ]
            honest = await http.get("/v1/pipeline", headers=small.headers("analyst"))
    assert [g.status_code for g in guesses] == [401, 401, 401, 429]
    assert guesses[-1].headers["retry-after"] == "2"  # the one missing token, at 0.5 a second
    assert honest.status_code == 200  # valid credentials are never held back by this


async def test_bad_requests_get_problem_documents_never_500(stack: Stack) -> None:
    headers = stack.headers("admin")
    as_json = {**headers, "content-type": "application/json"}
    as_form = {**headers, "content-type": "application/x-www-form-urlencoded"}
    async with stack.client() as http:
        cases = [
            (await http.get("/v1/nowhere", headers=headers), 404),
            (await http.delete("/v1/accounts", headers=headers), 405),
            (await http.post("/v1/accounts", content=b"{not json", headers=as_json), 400),
            (await http.post("/v1/accounts", content=b"name=x", headers=as_form), 415),
            (await http.post("/v1/accounts", content=b"x" * (2 << 20), headers=as_json), 413),
            (await http.post("/v1/accounts", json={"name": ""}, headers=headers), 422),
            (await http.get("/v1/customers/c-1/timeline?limit=0", headers=headers), 422),
            (await http.get("/v1/customers/c-1/timeline?cursor=zzz", headers=headers), 422),
            (await http.get("/v1/customers/c-1?wait_for=zzz", headers=headers), 422),
            (await http.get("/v1/search", headers=headers), 422),
        ]  # fmt: skip
    for answer, status in cases:
        assert answer.status_code == status, (status, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == status
    invalid = cases[5][0].json()
    assert invalid["errors"][0]["field"] == "name"


async def test_correlation_id_is_returned_and_carried_into_the_events(stack: Stack) -> None:
    async with stack.client() as http:
        answer = await http.post(
            "/v1/contacts", json={"first_name": "Ana", "last_name": "Souza"},
            headers={**stack.headers("seller"), "X-Correlation-Id": "flow-123"},
        )  # fmt: skip
        made_up = await http.get("/v1/pipeline", headers=stack.headers("analyst"))
    assert answer.status_code == 201, answer.text
    assert answer.headers["x-correlation-id"] == "flow-123"
    assert uuid.UUID(made_up.headers["x-correlation-id"])
    stored = await stack.sales.pool.fetchval(
        "SELECT correlation_id FROM events WHERE stream_id = $1", answer.json()["stream_id"]
    )
    assert stored == "flow-123"


async def test_idempotency_key_is_honoured_through_the_gateway(stack: Stack) -> None:
    headers = {**stack.headers("seller"), "Idempotency-Key": "form-submit-1"}
    body = {"first_name": "Rita", "last_name": "Lee"}
    async with stack.client() as http:
        first = await http.post("/v1/contacts", json=body, headers=headers)
        again = await http.post("/v1/contacts", json=body, headers=headers)
        other = await http.post("/v1/contacts", json={**body, "last_name": "X"}, headers=headers)
    assert first.status_code == 201 and again.status_code in (200, 201)
    assert again.json()["id"] == first.json()["id"] and again.json()["replayed"] is True
    assert first.json()["consistency_token"] == first.headers["x-consistency-token"]
    assert other.status_code == 422


# ------------------------------------------------------------------ other systems
async def test_events_are_validated_one_by_one(stack: Stack, infra) -> None:
    headers = stack.headers("integration", "shop")
    good = purchase_event()
    bad_total = purchase_event(data={"order_id": str(uuid.uuid4()), "customer_id": "c",
                                     "total": {"amount": "-1", "currency": "XXQ"}})  # fmt: skip
    unknown_type = purchase_event(type="crm.sales.teleported")
    async with stack.client() as http:
        single_bad = await http.post("/v1/events", json=bad_total, headers=headers)
        batch = await http.post(
            "/v1/events", content=orjson.dumps([good, bad_total, "nonsense", unknown_type]),
            headers={**headers, "content-type": "application/cloudevents-batch+json"},
        )  # fmt: skip
        not_array = await http.post(
            "/v1/events", content=orjson.dumps(good),
            headers={**headers, "content-type": "application/cloudevents-batch+json"},
        )  # fmt: skip
        too_many = await http.post("/v1/events", json=[good] * 501, headers=headers)
    assert single_bad.status_code == 422
    assert {e["field"] for e in single_bad.json()["errors"]} >= {"data.total.currency"}
    assert batch.status_code == 200, batch.text
    answer = batch.json()
    assert (answer["accepted"], answer["rejected"]) == (1, 3)
    assert [r["status"] for r in answer["results"]] == ["accepted", "rejected", "rejected",
                                                         "rejected"]  # fmt: skip
    assert answer["results"][3]["problem"]["errors"][0]["field"] == "type"
    assert not_array.status_code == 422 and too_many.status_code == 422
    marker = purchase_event()
    async with stack.client() as http:
        assert (await http.post("/v1/events", json=marker, headers=headers)).status_code == 200
    records = await read_topic(
        infra.kafka_bootstrap, stack.runtime.settings.events_topic,
        until=lambda r: marker["id"] in _ids(r),
    )  # fmt: skip
    # of everything sent before the marker, only the one valid event was published
    assert _ids(records) == [good["id"], marker["id"]]


def _ids(records: list[Any]) -> list[Any]:
    """Each record's event id; the whole value of a record that is not an event."""
    values = [orjson.loads(r.value) for r in records]
    return [v.get("id") if isinstance(v, dict) else v for v in values]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------- review hardening
async def test_an_encoded_path_cannot_send_the_gateway_to_another_host(stack: Stack) -> None:
    """``/v1%2F...x@host:port`` decodes to a routed path; it must stay a path."""
    canary_hits: list[bytes] = []

    async def canary(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        canary_hits.append(await reader.read(1000))
        writer.close()

    server = await asyncio.start_server(canary, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as http:
            for raw in (
                f"/v1%2Fopportunities%2Fx@127.0.0.1:{port}",
                f"/v1/opportunities/x@127.0.0.1:{port}",
                f"/v1%2Fpipeline@127.0.0.1:{port}",
                "/v1/opportunities/..",
            ):
                url = yarl.URL(stack.gateway_url + raw, encoded=True)
                async with http.get(url, headers=stack.headers("admin")) as answer:
                    assert 400 <= answer.status < 500, (raw, answer.status)
                    assert answer.content_type == "application/problem+json", raw
    finally:
        server.close()
        await server.wait_closed()
    assert canary_hits == []


async def test_other_systems_cannot_forge_the_crms_own_facts(stack: Stack) -> None:
    headers = stack.headers("integration", "shop")
    _, bound_key = stack.keys.create_api_key("loja-1", "integration", ("urn:shop:loja-1",))
    merge = purchase_event(type="crm.sales.records_merged", data={
        "kind": "account", "survivor_id": str(uuid.uuid4()), "merged_id": str(uuid.uuid4()),
        "customer_id": "a", "merged_customer_id": "b"})  # fmt: skip
    async with stack.client() as http:
        forged_type = await http.post("/v1/events", json=merge, headers=headers)
        forged_source = await http.post(
            "/v1/events", json=purchase_event(source="/crm/sales"), headers=headers
        )
        other_source = await http.post(
            "/v1/events", json=purchase_event(source="urn:shop:loja-2"),
            headers={"X-API-Key": bound_key},
        )  # fmt: skip
        own_source = await http.post(
            "/v1/events", json=purchase_event(), headers={"X-API-Key": bound_key}
        )
        # valid, but over the event store's 256 KiB (an extension attribute may be long)
        too_big = await http.post(
            "/v1/events", json=[purchase_event(notes="w" * 300_000), purchase_event()],
            headers=headers,
        )  # fmt: skip
    assert forged_type.status_code == 422
    assert forged_type.json()["errors"][0]["field"] == "type"
    assert forged_source.status_code == 422
    assert forged_source.json()["errors"][0]["field"] == "source"
    assert other_source.status_code == 422 and own_source.status_code == 200
    assert too_big.status_code == 200
    big, fine = too_big.json()["results"]
    assert big["status"] == "rejected" and "262144 bytes" in big["problem"]["detail"]
    assert fine["status"] == "accepted"


async def test_names_beyond_latin1_and_callers_idempotency_keys(stack: Stack) -> None:
    jose = stack.headers("seller", "José Ñandú", "sudeste")
    ana = stack.headers("seller", "Ana", "sudeste")
    async with stack.client() as http:
        account = (await http.post("/v1/accounts", json={"name": "Loja Ñ"},
                                   headers=stack.headers("admin"))).json()  # fmt: skip
        opened = await http.post("/v1/opportunities", headers=jose, json={
            "customer_id": account["customer_id"], "title": "Vitrine",
            "amount": {"amount": "10.00", "currency": "BRL"},
        })  # fmt: skip
        assert opened.status_code == 201, opened.text
        deal = await http.get(f"/v1/opportunities/{opened.json()['id']}", headers=jose)
        assert deal.status_code == 200 and deal.json()["owner_id"] == "José Ñandú"
        # the same key and body from two people: two contacts, not one answer for both
        body = {"first_name": "Lia", "last_name": "Reis"}
        first = await http.post("/v1/contacts", json=body,
                                headers={**jose, "Idempotency-Key": "k-1"})  # fmt: skip
        second = await http.post("/v1/contacts", json=body,
                                 headers={**ana, "Idempotency-Key": "k-1"})  # fmt: skip
    assert first.status_code == 201
    assert second.json()["replayed"] is False


async def test_live_streams_are_capped_per_client_and_resume_ids_are_checked(infra, schema) -> None:
    async with gateway_stack(
        infra.database_url, infra.kafka_bootstrap, schema, max_streams_per_client=1
    ) as small:
        headers = small.headers("analyst")
        url = "/v1/customers/someone/timeline/stream"
        async with small.client() as http:
            bad_id = await http.get(url, headers={**headers, "Last-Event-ID": "0001-01-01"})
            async with http.stream("GET", url, headers=headers) as first:
                assert first.status_code == 200
                lines = first.aiter_lines()  # not left early: that would close the stream
                assert (await anext(lines)).startswith("retry:")
                second = await http.get(url, headers=headers)
                await lines.aclose()
    assert bad_id.status_code == 422
    assert second.status_code == 429


async def test_refused_cors_preflight_is_a_problem_document(infra, schema) -> None:
    async with gateway_stack(
        infra.database_url, infra.kafka_bootstrap, schema, cors_origins="https://app.example"
    ) as web:
        preflight = {"Access-Control-Request-Method": "GET"}
        async with web.client() as http:
            ok_origin = await http.options(
                "/v1/search", headers={**preflight, "Origin": "https://app.example"}
            )
            evil = await http.options(
                "/v1/search", headers={**preflight, "Origin": "https://evil.example"}
            )
    assert ok_origin.status_code == 200
    assert ok_origin.headers["access-control-allow-origin"] == "https://app.example"
    assert evil.status_code == 403
    assert evil.headers["content-type"] == "application/problem+json"
