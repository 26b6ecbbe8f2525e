"""A context plugs in through the catalogue and a contract, with no gateway code for it.

The "probe" context exists only here: one catalogue entry, one contract document made
from its own tiny app, the app itself. The gateway, given that entry, serves it with
authentication, the roles its contract names, its operations in the OpenAPI document,
its consistency tokens passed through to read-your-writes, and problems: its own 4xx
as they come, and a 503 with Retry-After when it is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from contracts.catalogue import Context
from contracts.http_contracts import with_roles
from services.gateway.app import GatewayRuntime, GatewaySettings, create_app
from services.gateway.auth import KeyRing
from services.gateway.plugged import plug
from services.platform.problems import install_problem_handlers, problem
from services.platform.runtime import serve_asgi
from services.platform.tokens import make_consistency_token, read_consistency_token
from tests.gateway_stack import free_port

pytestmark = pytest.mark.integration

PROBE = Context(
    name="probe",
    source="/crm/probe",
    topic="crm.probe.events",
    schema="probe",
    url_setting="CRM_GATEWAY_PROBE_URL",
    default_url="http://127.0.0.1:9",  # never used: the test gives the URL
    http_contract="probe.v1.json",
    path_prefix="/v1/probe",
)
ROLES = {
    "POST /notes": ["admin", "seller"],
    "GET /notes/{note_id}": ["admin", "analyst"],
    "POST /drafts": ["admin"],
}


class NoteBody(BaseModel):
    text: str = Field(min_length=1, max_length=100)


class NoteAccepted(BaseModel):
    id: str
    event_ids: list[str]
    consistency_token: str


def probe_app() -> FastAPI:
    app = FastAPI(title="probe", version="1")
    install_problem_handlers(app)
    notes: dict[str, str] = {}

    @app.post("/notes", status_code=201, response_model=NoteAccepted)
    async def write_note(body: NoteBody) -> Any:
        note, event = str(uuid.uuid4()), str(uuid.uuid4())
        notes[note] = body.text
        token = make_consistency_token(PROBE.source, [event])
        return {"id": note, "event_ids": [event], "consistency_token": token}

    @app.post("/drafts", status_code=201)
    async def write_draft(body: NoteBody) -> Any:
        # a command answer without a token: the gateway must not make one up
        return {"id": str(uuid.uuid4()), "event_ids": [str(uuid.uuid4())]}

    @app.get("/notes/{note_id}", responses={404: {"description": "no such note"}})
    async def read_note(note_id: str) -> Any:
        if note_id not in notes:
            return problem(404, "Not found", f"no note {note_id}", "urn:probe:no-note")
        return {"id": note_id, "text": notes[note_id]}

    return app


async def until_up(url: str) -> None:
    async with httpx.AsyncClient() as probe:
        for _ in range(400):
            with contextlib.suppress(httpx.HTTPError):
                await probe.get(url)
                return
            await asyncio.sleep(0.025)
    raise AssertionError(f"{url} never answered")


@contextlib.asynccontextmanager
async def plugged_gateway(infra: Any) -> AsyncIterator[dict[str, Any]]:
    app = probe_app()
    document = with_roles(app.openapi(), ROLES)
    probe_port, gateway_port = free_port(), free_port()
    keys = KeyRing({"test-1": "a-test-signing-key-of-enough-length-1234"}, "test-1")
    settings = GatewaySettings(upstreams={"probe": f"http://127.0.0.1:{probe_port}"})
    runtime = await GatewayRuntime.create(settings, infra.database_url, infra.kafka_bootstrap, keys)
    probe_stop, gateway_stop = asyncio.Event(), asyncio.Event()
    gateway = create_app(runtime, contexts=[plug(PROBE, document)])
    servers = [
        asyncio.create_task(serve_asgi(app, probe_port, probe_stop, "probe")),
        asyncio.create_task(serve_asgi(gateway, gateway_port, gateway_stop, "gateway")),
    ]
    url = f"http://127.0.0.1:{gateway_port}"
    try:
        await until_up(f"http://127.0.0.1:{probe_port}/openapi.json")
        await until_up(f"{url}/openapi.json")
        yield {"url": url, "keys": keys, "stop_probe": probe_stop}
    finally:
        probe_stop.set()
        gateway_stop.set()
        await asyncio.gather(*servers, return_exceptions=True)
        await runtime.close()


def bearer(keys: KeyRing, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys.issue('user-1', role, team='sul')}"}


async def test_a_context_from_a_fixture_is_served_guarded_documented_and_read_your_writes(
    infra: Any,
) -> None:
    async with plugged_gateway(infra) as gw, httpx.AsyncClient(base_url=gw["url"]) as http:
        keys = gw["keys"]
        assert (await http.post("/v1/probe/notes", json={"text": "oi"})).status_code == 401
        refused = await http.post(
            "/v1/probe/notes", json={"text": "oi"}, headers=bearer(keys, "marketer")
        )
        assert refused.status_code == 403, refused.text
        written = await http.post(
            "/v1/probe/notes", json={"text": "oi"}, headers=bearer(keys, "seller")
        )
        assert written.status_code == 201, written.text
        answer = written.json()
        # the token is the probe's own, passed through: body and header alike
        assert written.headers["x-consistency-token"] == answer["consistency_token"]
        assert read_consistency_token(answer["consistency_token"]) == (
            "/crm/probe", answer["event_ids"],
        )  # fmt: skip
        # a read waits for it (here: accepted, then "no such customer"; a token that is
        # not one is refused before any read)
        for token, status in ((answer["consistency_token"], 404), ("zzz", 422)):
            waited = await http.get(
                "/v1/customers/probe-customer", params={"wait_for": token, "wait": 0},
                headers=bearer(keys, "analyst"),
            )  # fmt: skip
            assert waited.status_code == status, waited.text
        note = f"/v1/probe/notes/{answer['id']}"
        assert (await http.get(note, headers=bearer(keys, "seller"))).status_code == 403
        read = await http.get(note, headers=bearer(keys, "analyst"))
        assert read.status_code == 200 and read.json()["text"] == "oi"

        document = (await http.get("/openapi.json")).json()
        operation = document["paths"]["/v1/probe/notes"]["post"]
        assert operation["x-crm-roles"] == ["admin", "seller"]
        assert operation["security"] == [{"bearer": []}, {"apiKey": []}]
        assert {"401", "403", "429", "503"} <= set(operation["responses"])
        assert "/v1/probe/notes/{note_id}" in document["paths"]


async def test_a_plugged_contexts_problems_pass_through_and_its_absence_is_a_503(
    infra: Any,
) -> None:
    async with plugged_gateway(infra) as gw, httpx.AsyncClient(base_url=gw["url"]) as http:
        headers = bearer(gw["keys"], "admin")
        missing = await http.get("/v1/probe/notes/nope", headers=headers)
        assert missing.status_code == 404 and missing.json()["type"] == "urn:probe:no-note"
        draft = await http.post("/v1/probe/drafts", json={"text": "x"}, headers=headers)
        assert draft.status_code == 201 and "consistency_token" not in draft.json()
        assert "x-consistency-token" not in draft.headers  # tokens are the services' own
        invalid = await http.post("/v1/probe/notes", json={"text": ""}, headers=headers)
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        wrong_method = await http.delete("/v1/probe/notes", headers=headers)
        assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
        gw["stop_probe"].set()
        await until_down(f"{gw['url']}/v1/probe/notes/nope", headers)
        down = await http.get("/v1/probe/notes/nope", headers=headers)
        assert down.status_code == 503, down.text
        assert down.headers["retry-after"].isdigit()
        assert down.json()["detail"].startswith("the probe service")


async def until_down(url: str, headers: dict[str, str]) -> None:
    """Until the stopped probe no longer answers through the gateway (it finishes what it
    was doing before it closes its socket)."""
    async with httpx.AsyncClient() as client:
        for _ in range(400):
            if (await client.get(url, headers=headers)).status_code != 404:
                return
            await asyncio.sleep(0.025)
    raise AssertionError("the probe kept answering after it was stopped")
