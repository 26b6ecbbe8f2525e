"""Correcting accounts and contacts through the sales API, on real PostgreSQL: an
ordinary command appending a sealed correcting event, with the identity keys following."""

from __future__ import annotations

import uuid

import httpx
import pytest

from services.platform.privacy.data_keys import DataKeys
from services.sales.application.runtime import SalesRuntime
from services.sales.bootstrap import bootstrap
from services.sales.entrypoints.http import create_app

pytestmark = pytest.mark.integration

NEW_EMAIL = "financeiro.quaresma@exemplo.com.br"
NEW_NAME = "Quaresma Tavares Comércio de Pães Ltda."


async def created(response: httpx.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def problem(response: httpx.Response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith(kind), body
    return body


async def events_count(runtime: SalesRuntime) -> int:
    return int(await runtime.pool.fetchval("SELECT count(*) FROM events"))


async def test_a_corrected_account_is_sealed_in_the_store_and_its_keys_follow(sales):
    http, runtime = sales
    account = await created(await http.post("/accounts", json={
        "name": "Padaria Quaresma", "emails": ["compras.quaresma@exemplo.com.br"],
    }))  # fmt: skip
    patched = await http.patch(
        f"/accounts/{account['id']}",
        json={"name": NEW_NAME, "emails": [NEW_EMAIL.upper()]},
        headers={"If-Match": "1", "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["version"], len(patched.json()["event_ids"])) == (2, 1)
    record = (await http.get(f"/accounts/{account['id']}")).json()
    assert (record["name"], record["emails"], record["version"]) == (NEW_NAME, [NEW_EMAIL], 2)
    stored = await runtime.pool.fetchval(
        "SELECT payload::text FROM events WHERE event_type = 'crm.sales.account_details_corrected'"
    )
    assert '"personal"' in stored
    for plain in (NEW_EMAIL, "Quaresma", "compras.quaresma"):
        assert plain not in stored
    keys = await runtime.pool.fetch("SELECT key FROM identity_keys WHERE record_id = $1",
                                    uuid.UUID(account["id"]))  # fmt: skip
    assert [k["key"] for k in keys] == [f"account:email:{NEW_EMAIL}"]


async def test_another_contacts_email_is_a_conflict_and_appends_nothing(sales):
    http, runtime = sales
    ana = await created(await http.post("/contacts", json={
        "first_name": "Ana", "emails": ["ana.quaresma@exemplo.com.br"],
    }))  # fmt: skip
    await created(await http.post("/contacts", json={
        "first_name": "Bia", "emails": ["bia.quaresma@exemplo.com.br"],
    }))  # fmt: skip
    before = await events_count(runtime)
    refused = await http.patch(f"/contacts/{ana['id']}", json={
        "phones": ["(11) 91234-5678"], "emails": ["Bia.Quaresma@exemplo.com.br"],
    })  # fmt: skip
    body = problem(refused, 409, "duplicate")
    assert [e["field"] for e in body["errors"]] == ["emails"]
    assert await events_count(runtime) == before
    held = await runtime.pool.fetchval(
        "SELECT count(*) FROM identity_keys WHERE key = 'contact:phone:+5511912345678'"
    )
    assert held == 0  # nothing half-written


@pytest.mark.parametrize(
    ("body", "status", "kind", "field"),
    [
        ({}, 422, "empty-patch", None),
        ({"first_name": None}, 422, "validation", "first_name"),
        ({"phones": ["12345"]}, 422, "invalid-phone", "phones[0]"),
        ({"tax_id": "529.982.247-26"}, 422, "invalid-tax-id", "tax_id"),
        ({"nickname": "Aninha"}, 422, "validation", "nickname"),
    ],
)
async def test_an_empty_or_invalid_patch_is_refused_naming_the_field(
    sales, body, status, kind, field
):
    http, runtime = sales
    ana = await created(await http.post("/contacts", json={"first_name": "Ana"}))
    before = await events_count(runtime)
    answer = problem(await http.patch(f"/contacts/{ana['id']}", json=body), status, kind)
    if field is not None:
        assert field in [e["field"] for e in answer["errors"]], answer
    assert await events_count(runtime) == before


async def test_an_unknown_record_is_404_and_a_stale_version_409(sales):
    http, _ = sales
    problem(await http.patch(f"/accounts/{uuid.uuid4()}", json={"name": "X"}), 404, "not-found")
    ana = await created(await http.post("/contacts", json={"first_name": "Ana"}))
    stale = await http.patch(
        f"/contacts/{ana['id']}", json={"last_name": "Quaresma"}, headers={"If-Match": "3"}
    )
    problem(stale, 409, "version-conflict")


async def test_personal_data_for_an_erased_customer_is_refused_with_409(sales, data_keys: DataKeys):
    http, runtime = sales
    ana = await created(await http.post("/contacts", json={"first_name": "Ana"}))
    async with runtime.pool.acquire() as conn:
        assert await data_keys.destroy(conn, [ana["customer_id"]]) == [ana["customer_id"]]
    before = await events_count(runtime)
    # An API process that has not cached the subject's key (started since, or its cache
    # outlived: keys are cached for ``DataKeys.ttl``) reads the erasure from the registry.
    later = httpx.ASGITransport(app=create_app(bootstrap(runtime.pool)))
    async with httpx.AsyncClient(transport=later, base_url="http://sales") as api:
        refused = await api.patch(f"/contacts/{ana['id']}", json={"last_name": "Quaresma"})
    assert problem(refused, 409, "personal-data-erased")["subject"] == ana["customer_id"]
    assert await events_count(runtime) == before
