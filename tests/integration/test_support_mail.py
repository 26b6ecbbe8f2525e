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
