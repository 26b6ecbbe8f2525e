"""The inbound mail listener: SMTP (aiosmtpd) on ``CRM_SUPPORT_SMTP_HOST`` /
``CRM_SUPPORT_SMTP_PORT`` (127.0.0.1:2525); each message becomes a case, a reply on
one, or a quarantined message (``application.mail_intake``).

``250`` is answered only after the message is committed; when the database is not
there the answer is ``451`` and the sending server tries again later, so a message is
never accepted and then lost. The listener accepts any recipient: it is meant to sit
behind the organisation's mail server (which relays the support addresses to it), not
on the internet, and it relays nothing anywhere. Its health endpoint is ready while the
listener is bound and the database answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.platform.logging import get_logger
from services.platform.runtime import serve_health
from services.platform.settings import Settings
from services.support.application.mail_intake import MailNotTaken, receive
from services.support.application.runtime import SupportRuntime

log = get_logger(__name__)
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
"""Larger messages are refused by SMTP itself (552) before any is read into memory."""
TRY_LATER = "451 4.3.0 Temporary failure, the message is not stored: please try again"


class MailHandler:
    """aiosmtpd's handler: only DATA matters, everything before it is protocol."""

    def __init__(self, deps: SupportRuntime) -> None:
        self.deps = deps

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):  # decode_data is off: never happens, but say so
            raw = str(raw or "").encode("utf-8", errors="surrogateescape")
        try:
            data = await receive(self.deps, raw)
        except MailNotTaken as exc:
            log.warning("support.mail_deferred", error=str(exc))
            return TRY_LATER
        except Exception:  # never 250 for what was not stored
            log.exception("support.mail_deferred")
            return TRY_LATER
        return f"250 2.0.0 OK: {data.get('outcome', 'stored')}"


async def start_listener(deps: SupportRuntime, host: str, port: int) -> asyncio.Server:
    """The SMTP listener, bound (``port`` 0: any free port, as tests use)."""
    loop = asyncio.get_running_loop()
    handler = MailHandler(deps)

    def protocol() -> SMTP:
        return SMTP(handler, loop=loop, data_size_limit=MAX_MESSAGE_BYTES,
                    enable_SMTPUTF8=True, hostname="crm-support")  # fmt: skip

    return await loop.create_server(protocol, host, port)


@dataclass(frozen=True)
class MailListenerConfig:
    host: str = "127.0.0.1"
    port: int = 2525


async def mail_main(listener: MailListenerConfig, make_runtime: Any, settings: Settings,
                    stop: asyncio.Event) -> None:  # fmt: skip
    """``make_runtime(settings)``: the support runtime on a migrated pool (``__main__``)."""
    deps: SupportRuntime = await make_runtime(settings)
    pool: asyncpg.Pool = deps.pool
    server = await start_listener(deps, listener.host, listener.port)
    log.info("support.mail_listening", host=listener.host, port=listener.port)

    async def listening() -> bool:
        return server.is_serving()

    async def database() -> bool:
        return bool(await pool.fetchval("SELECT true"))

    try:
        await serve_health(settings.http_port, {"listener": listening, "database": database},
                           stop, "support-mail", host=settings.http_host)  # fmt: skip
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()
        await pool.close()
