"""Inbound mail over real SMTP (the listener on a free port, ``smtplib`` sending): a new
message becomes a case, a reply threads onto it by In-Reply-To or by the subject's case
token, a retried message creates nothing twice, an unknown sender is kept in quarantine."""

from __future__ import annotations

import asyncio
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from uuid import UUID

import pytest

from services.support.application import mail_addresses
from services.support.domain.mail_threading import case_token
from services.support.entrypoints.mail import start_listener
from tests.integration.conftest import SupportApi

pytestmark = pytest.mark.integration

AGENT = {"x-actor-id": "agent-ana", "x-actor-role": "service_agent"}
ADDRESS = "marcia.lima@exemplo.com.br"


def _message(message_id: str, subject: str, body: str, sender: str = ADDRESS,
             in_reply_to: str | None = None) -> EmailMessage:  # fmt: skip
    mail = EmailMessage()
    mail["From"], mail["To"] = f"Márcia Lima <{sender}>", "atendimento@crm.example"
    mail["Subject"], mail["Message-ID"] = subject, message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    mail.set_content(body)
    return mail


async def _send(port: int, mail: EmailMessage) -> None:
    def send() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(mail)

    await asyncio.to_thread(send)


async def _cases(api: SupportApi) -> list[UUID]:
    rows = await api.runtime.pool.fetch("SELECT case_id FROM cases ORDER BY opened_at")
    return [r["case_id"] for r in rows]


@pytest.fixture
async def listener(support: SupportApi):  # type: ignore[no-untyped-def]
    await support.know_customer("cust-mail")
    async with support.runtime.pool.acquire() as conn, conn.transaction():
        await mail_addresses.learn(support.runtime.keys, conn, record_id="contact-1",
                                   customer_id="cust-mail", kind="contact", emails=[ADDRESS],
                                   at=datetime.now(UTC))  # fmt: skip
    server = await start_listener(support.runtime, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_new_mail_opens_a_case_and_replies_thread_onto_it(
    support: SupportApi, listener: int
) -> None:
    await _send(listener, _message("<m1@exemplo.com.br>", "Pedido veio errado",
                                   "Recebi a cor errada do pedido."))  # fmt: skip
    cases = await _cases(support)
    assert len(cases) == 1
    case = (await support.client.get(f"/cases/{cases[0]}", headers=AGENT)).json()
    assert (case["customer_id"], case["channel"]) == ("cust-mail", "email")
    assert "cor errada" in case["description"]

    # By In-Reply-To, then by the case token alone; the same message again adds nothing.
    await _send(listener, _message("<m2@exemplo.com.br>", "Re: Pedido veio errado",
                                   "Segue a foto.", in_reply_to="<m1@exemplo.com.br>"))  # fmt: skip
    token_subject = f"Outra coisa {case_token(cases[0])}"
    await _send(listener, _message("<m3@exemplo.com.br>", token_subject, "Mais um detalhe."))
    await _send(listener, _message("<m3@exemplo.com.br>", token_subject, "Mais um detalhe."))
    assert await _cases(support) == cases
    case = (await support.client.get(f"/cases/{cases[0]}", headers=AGENT)).json()
    bodies = [m["body"] for m in case["conversation"] if m["kind"] == "customer_reply"]
    assert bodies == ["Segue a foto.", "Mais um detalhe."]


async def test_an_unknown_sender_is_kept_in_quarantine(support: SupportApi, listener: int) -> None:
    await _send(listener, _message("<x1@desconhecido.com>", "Olá", "Quem sou eu?",
                                   sender="ninguem@desconhecido.com"))  # fmt: skip
    assert await _cases(support) == []
    held = await support.runtime.pool.fetchval("SELECT count(*) FROM mail_quarantine")
    assert held == 1
    # Kept whole but sealed: the row holds no word of the message in plain text.
    stored = await support.runtime.pool.fetchval(
        "SELECT row_to_json(q)::text FROM mail_quarantine q"
    )
    assert "Quem sou eu" not in stored


SUPERVISOR = {"x-actor-id": "sup-bea", "x-actor-role": "service_supervisor"}


async def _send_raw(port: int, raw: bytes, sender: str = "") -> None:
    def send() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail(sender, ["atendimento@crm.example"], raw)

    await asyncio.to_thread(send)


async def test_held_mail_is_listed_and_filed_once_as_a_case(
    support: SupportApi, listener: int
) -> None:
    await support.know_customer("cust-walk-in")
    stranger = _message(
        "<x2@desconhecido.com>",
        "Geladeira parou",
        "Parou de gelar ontem.",
        sender="joana@desconhecido.com",
    )
    await _send(listener, stranger)
    # No From, no Message-ID, no headers at all: still kept, never dropped.
    await _send_raw(listener, b"\x00\xff garbage that is no e-mail \r\n\r\n\xfe")
    assert await _cases(support) == []

    listed = await support.client.get("/mail/quarantine", headers=AGENT)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert len(items) == 2
    known = next(i for i in items if i["subject"] == "Geladeira parou")
    assert known["sender"] == "joana@desconhecido.com" and "gelar" in known["body"]
    assert all(i["reason"] for i in items)

    path = f"/mail/quarantine/{known['quarantine_id']}/case"
    filed = await support.client.post(path, json={"customer_id": "cust-walk-in"},
                                      headers=SUPERVISOR)  # fmt: skip
    assert filed.status_code == 201, filed.text
    case = (await support.client.get(f"/cases/{filed.json()['case_id']}", headers=AGENT)).json()
    assert (case["customer_id"], case["channel"]) == ("cust-walk-in", "email")
    assert "gelar" in case["description"]

    again = await support.client.post(path, json={"customer_id": "cust-walk-in"},
                                      headers=SUPERVISOR)  # fmt: skip
    assert again.status_code == 409, again.text
    assert len(await _cases(support)) == 1
    left = (await support.client.get("/mail/quarantine", headers=AGENT)).json()["items"]
    assert [i["quarantine_id"] for i in left] == [
        i["quarantine_id"] for i in items if i is not known]  # fmt: skip


async def test_filing_needs_a_known_customer_or_case_and_changes_nothing_otherwise(
    support: SupportApi, listener: int
) -> None:
    await _send(listener, _message("<x3@desconhecido.com>", "Oi", "Texto.",
                                   sender="ze@desconhecido.com"))  # fmt: skip
    held = (await support.client.get("/mail/quarantine", headers=AGENT)).json()["items"]
    path = f"/mail/quarantine/{held[0]['quarantine_id']}/case"
    for body, status, field in [({"customer_id": "nobody-known"}, 404, "customer_id"),
                                ({}, 422, "customer_id"),
                                ({"case_id": "00000000-0000-0000-0000-000000000001"}, 404,
                                 "case_id")]:  # fmt: skip
        answer = await support.client.post(path, json=body, headers=SUPERVISOR)
        assert answer.status_code == status, (body, answer.text)
        assert field in str(answer.json())
    unknown = await support.client.post(
        "/mail/quarantine/00000000-0000-0000-0000-000000000002/case",
        json={"customer_id": "cust-mail"}, headers=SUPERVISOR,
    )  # fmt: skip
    assert unknown.status_code == 404, unknown.text
    assert await _cases(support) == []
    still = (await support.client.get("/mail/quarantine", headers=AGENT)).json()["items"]
    assert [i["quarantine_id"] for i in still] == [held[0]["quarantine_id"]]
