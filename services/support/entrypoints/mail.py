"""The inbound mail listener (SMTP): each message becomes a case or a reply on one.

Placeholder: serves its health endpoint; the SMTP listener lands with inbound mail."""

from __future__ import annotations

import asyncio

from services.platform.runtime import serve_health
from services.platform.settings import Settings


async def mail_main(settings: Settings, stop: asyncio.Event) -> None:
    async def ready() -> bool:
        return True

    await serve_health(settings.http_port, {"listener": ready}, stop, "support-mail",
                       host=settings.http_host)  # fmt: skip
