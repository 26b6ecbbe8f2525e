"""What the SMTP listener calls for each message: parse it, run ``IngestMail`` keyed by
its Message-ID, and say whether it is committed.

The listener answers 250 only when this returns; a raised ``MailNotTaken`` is a 451, so
the sending server keeps the message and tries again later: nothing accepted is lost.
A message support fails on for any other reason (a bug, an input nobody foresaw) is
quarantined as ``processing_error`` rather than bounced or retried forever.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from services.platform.eventstore import WrongExpectedVersion
from services.platform.faults import CONTENTION, DATABASE_UNREACHABLE, DatabaseUnavailable
from services.platform.logging import get_logger
from services.support.application.inbound_mail import IngestMail
from services.support.application.runner import run_command
from services.support.application.runtime import SupportRuntime
from services.support.domain.mail_parsing import parse_mail

log = get_logger(__name__)
TRANSIENT: tuple[type[BaseException], ...] = (
    DatabaseUnavailable, WrongExpectedVersion, *DATABASE_UNREACHABLE, *CONTENTION,
)  # fmt: skip


class MailNotTaken(Exception):
    """The message is not committed: answer a temporary failure so that it is resent."""


def idempotency_key(raw: bytes, message_id: str | None) -> str:
    """The Message-ID (a resend through another relay differs in its Received headers,
    not in its id); a message without one is the same message only byte for byte."""
    if message_id:
        return f"support-mail {message_id}"
    return f"support-mail sha256:{hashlib.sha256(raw).hexdigest()}"


async def receive(deps: SupportRuntime, raw: bytes) -> dict[str, Any]:
    mail = parse_mail(raw)
    key = idempotency_key(raw, mail.message_id)
    command = IngestMail(raw, mail)
    try:
        try:
            data, _ = await run_command(deps, command, idempotency_key=key)
        except TRANSIENT:
            raise
        except Exception:
            log.exception("support.mail_failed", message_id=mail.message_id)
            data, _ = await run_command(deps, replace(command, hold_reason="processing_error"),
                                        idempotency_key=key)  # fmt: skip
    except TRANSIENT as exc:
        raise MailNotTaken(f"the database is unavailable: {type(exc).__name__}") from exc
    log.info("support.mail_received", outcome=data.get("outcome"), case_id=data.get("case_id"),
             quarantine_id=data.get("quarantine_id"), reason=data.get("reason"))  # fmt: skip
    return data
