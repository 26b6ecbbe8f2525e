"""An inbound e-mail read with the standard library (``email``, policy ``default``): who
sent it, what it answers, and its text. Pure: bytes in, a ``ParsedMail`` out.

A message is never refused here: what cannot be read is named in ``problem`` and the
caller keeps the raw message (quarantine), so nothing a customer sent is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parseaddr

from services.support.domain.mail_text import html_to_text, trim_quoted

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
NO_SUBJECT = "(no subject)"


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    sender: str | None
    """The From address, normalised (``normalise_address``); None when there is none."""
    subject: str
    body: str
    """The new text of the message (quoted history trimmed), with its attachments named."""
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    auto_submitted: bool = False
    problem: str | None = None
    """Why the message cannot become a case on its own (``no_sender``, ``unreadable``)."""

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The ids it answers, the most telling first: In-Reply-To, then the newest
        References (the list runs from the thread's first message to the latest)."""
        seen: dict[str, None] = dict.fromkeys((*self.in_reply_to, *reversed(self.references)))
        return tuple(seen)


def normalise_address(address: str) -> str:
    """How an address is compared and hashed: trimmed and lower-cased (mail servers treat
    the local part case-insensitively in practice, people type it every which way)."""
    return address.strip().lower()


def parse_mail(raw: bytes) -> ParsedMail:
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        return _read(message)
    except Exception as exc:  # any defect at all: keep it, say why
        return ParsedMail(None, None, NO_SUBJECT, "", problem=f"unreadable: {type(exc).__name__}")


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _ids(value: str) -> tuple[str, ...]:
    return tuple(_MESSAGE_ID.findall(value))


def _read(message: EmailMessage) -> ParsedMail:
    _, address = parseaddr(_header(message, "From"))
    sender = normalise_address(address) if _ADDRESS.match(address.strip()) else None
    ids = _ids(_header(message, "Message-ID"))
    subject = _header(message, "Subject")[:300].strip() or NO_SUBJECT
    auto = _header(message, "Auto-Submitted").lower() not in ("", "no")
    return ParsedMail(
        message_id=ids[0] if ids else None, sender=sender, subject=subject,
        body=_body(message), in_reply_to=_ids(_header(message, "In-Reply-To")),
        references=_ids(_header(message, "References")), auto_submitted=auto,
        problem=None if sender else "no_sender",
    )  # fmt: skip


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if isinstance(part, EmailMessage):
        content = _content(part)
        text = html_to_text(content) if part.get_content_subtype() == "html" else content
    text = trim_quoted(text)
    attached = message.iter_attachments() if message.is_multipart() else iter(())
    attachments = [_describe(a) for a in attached]
    if attachments:
        # Attachments are not kept by support (yet): name them, so the agent knows to ask.
        text = f"{text}\n\n[attachments not kept: {', '.join(attachments)}]".strip()
    return text


def _content(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _describe(attachment: Message) -> str:
    name = attachment.get_filename() or attachment.get_content_type()
    payload = attachment.get_payload(decode=True)
    size = len(payload) if isinstance(payload, bytes) else 0
    return f"{name} ({max(1, size // 1024)} kB)"
