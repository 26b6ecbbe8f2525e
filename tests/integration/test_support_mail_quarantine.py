"""Malformed and unmatched inbound mail, sent over real SMTP, is kept in the quarantine
and listed by the API with why; a supervisor files one as a new case, once."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest

from services.support.entrypoints.mail import start_listener
from tests.integration.conftest import SupportApi

pytestmark = pytest.mark.integration

SUPERVISOR = {"x-actor-id": "sup-bia", "x-actor-role": "service_supervisor"}
AGENT = {"x-actor-id": "agent-ana", "x-actor-role": "service_agent"}
CUSTOMER = {"x-actor-id": "cust-q", "x-actor-role": "customer"}

# No From header at all, a bogus charset, a base64 part that is not base64, a stray NUL.
NO_SENDER = (
    b"Subject: =?x-unknown?q?Pedido_n=E3o_chegou?=\r\n"
    b"Message-ID: <broken-1@nowhere>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"never-closed\"\r\n"
    b"\r\n"
    b"--never-closed\r\n"
    b"Content-Type: text/plain; charset=klingon\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"!!! este pedido nao chegou \x00 !!!\r\n"
)  # fmt: skip
UNKNOWN_SENDER = (
    b"From: Quem <ninguem@desconhecido.com>\r\n"
    b"To: atendimento@crm.example\r\n"
    b"Subject: Minha geladeira\r\n"
    b"Message-ID: <unknown-1@desconhecido.com>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"A geladeira veio sem a prateleira.\r\n"
)  # fmt: skip


async def _send(port: int, raw: bytes) -> None:
    def send() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("bounce@nowhere", ["atendimento@crm.example"], raw)

    await asyncio.to_thread(send)


@pytest.fixture
async def listener(support: SupportApi) -> AsyncIterator[int]:
    server = await start_listener(support.runtime, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def _held(api: SupportApi, headers: dict[str, str] = SUPERVISOR) -> list[dict[str, Any]]:
    response = await api.client.get("/mail/quarantine", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_malformed_mail_is_kept_and_listed_with_its_reason(
    support: SupportApi, listener: int
) -> None:
    await _send(listener, NO_SENDER)
    await _send(listener, UNKNOWN_SENDER)
    held = await _held(support, AGENT)  # agents may read the quarantine too
    by_id = {m["message_id"]: m for m in held}  # the test clock stands still: no order
    assert {k: m["reason"] for k, m in by_id.items()} == {
        "<broken-1@nowhere>": "no_sender",
        "<unknown-1@desconhecido.com>": "unknown_sender",
    }
    assert by_id["<broken-1@nowhere>"]["sender"] is None
    unknown = by_id["<unknown-1@desconhecido.com>"]
    assert "desconhecido.com" in unknown["sender"]
    assert "sem a prateleira" in unknown["body"]
    assert all(m["size_bytes"] > 0 for m in held)
    # Sent again (an SMTP retry), each is still one message.
    await _send(listener, NO_SENDER)
    assert len(await _held(support)) == 2
    assert await support.runtime.pool.fetchval("SELECT count(*) FROM cases") == 0


async def test_a_quarantined_mail_is_filed_as_a_new_case_once(
    support: SupportApi, listener: int
) -> None:
    await support.know_customer("cust-q")
    await _send(listener, UNKNOWN_SENDER)
    [mail] = await _held(support)
    path = f"/mail/quarantine/{mail['mail_id']}/case"
    filed = await support.client.post(path, json={"customer_id": "cust-q"}, headers=SUPERVISOR)
    assert filed.status_code == 201, filed.text
    case = await support.client.get(f"/cases/{filed.json()['case_id']}", headers=AGENT)
    assert case.status_code == 200, case.text
    assert (case.json()["customer_id"], case.json()["channel"]) == ("cust-q", "email")
    assert "sem a prateleira" in case.json()["description"]
    assert await _held(support) == []

    again = await support.client.post(path, json={"customer_id": "cust-q"}, headers=SUPERVISOR)
    assert again.status_code == 409, again.text
    assert await support.runtime.pool.fetchval("SELECT count(*) FROM cases") == 1


async def test_filing_refusals_name_the_field_and_keep_the_mail(
    support: SupportApi, listener: int
) -> None:
    await _send(listener, UNKNOWN_SENDER)
    [mail] = await _held(support)
    path = f"/mail/quarantine/{mail['mail_id']}/case"
    unknown = await support.client.post(path, json={"customer_id": "nobody"}, headers=SUPERVISOR)
    assert unknown.status_code == 404, unknown.text
    assert [e["field"] for e in unknown.json()["errors"]] == ["customer_id"]
    blank = await support.client.post(path, json={"customer_id": " "}, headers=SUPERVISOR)
    assert blank.status_code == 422, blank.text
    assert "customer_id" in [e["field"] for e in blank.json()["errors"]]
    nowhere = f"/mail/quarantine/{uuid4()}/case"
    missing = await support.client.post(nowhere, json={"customer_id": "x"}, headers=SUPERVISOR)
    assert missing.status_code == 404, missing.text
    for route in (
        support.client.get("/mail/quarantine", headers=CUSTOMER),
        support.client.post(path, json={"customer_id": "cust-q"}, headers=CUSTOMER),
    ):
        assert (await route).status_code == 403
    assert [m["mail_id"] for m in await _held(support)] == [mail["mail_id"]]
    assert await support.runtime.pool.fetchval("SELECT count(*) FROM events") == 0
