"""Logs never carry personal data (LGPD, Ley 25.326, GDPR): a structlog processor.

Two nets, because personal data reaches a log line in two ways:

- **by key**: a value logged under a key that names personal data (``name``, ``email``,
  ``tax_id``, ``address``, ``notes`` …) is replaced whole;
- **by shape**: in every other text (messages, errors, tracebacks, library logs) what
  looks like an e-mail address, a CPF, CNPJ or CUIT, or a phone number is replaced.

Identifiers the logs exist to carry (event, stream, correlation ids, timestamps) are left
as they are; so are numbers that are not text (offsets, ports, counts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

REDACTED = "[redacted]"

PERSONAL_KEYS = frozenset({
    "name", "first_name", "last_name", "display_name", "full_name", "company",
    "email", "emails", "phone", "phones", "tax_id", "address", "street",
    "notes", "description", "body", "text", "message_body",
})  # fmt: skip
"""Keys whose values are personal data, whatever they hold."""

KEPT_KEYS = frozenset({
    "event_id", "stream_id", "correlation_id", "causation_id", "customer_id", "timestamp",
    "level", "logger", "logger_name", "process", "group", "topic", "consumer",
})  # fmt: skip
"""Keys whose values are identifiers or metadata, never scanned."""

# An e-mail's domain ends in a name (user@127.0.0.1 in a database URL is a machine).
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z][\w-]*")
_TAX_ID = re.compile(
    r"(?<![\w.-])(?:\d{3}\.\d{3}\.\d{3}-\d{2}"  # CPF
    r"|\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}"  # CNPJ
    r"|\d{2}-\d{8}-\d)(?![\w-])"  # CUIT
)
# A run of digits with the separators people type; not inside a word, a UUID or a path.
_PHONE_LIKE = re.compile(r"(?<![\w./:-])\+?\(?\d[\d ().-]{6,}\d(?![\w/-])")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MIN_PHONE_DIGITS = 8


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if digits < _MIN_PHONE_DIGITS or _DATE.match(text.lstrip("+(")):
        return text  # a short number, or a date: not a phone
    return REDACTED


def scrub(text: str) -> str:
    """``text`` with e-mail addresses, tax ids and phone numbers replaced; UUIDs (the
    records' ids) are left alone."""
    pieces = _UUID.split(text)
    ids = _UUID.findall(text)
    cleaned = [_scrub_piece(piece) for piece in pieces]
    return "".join(p + i for p, i in zip(cleaned, [*ids, ""], strict=True))


def _scrub_piece(text: str) -> str:
    text = _EMAIL.sub(REDACTED, text)
    text = _TAX_ID.sub(REDACTED, text)
    return _PHONE_LIKE.sub(_phone, text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {k: REDACTED if k in PERSONAL_KEYS else _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(item) for item in value]
    return value


def redact_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The structlog processor: run it after exceptions are formatted, before rendering."""
    for key, value in event_dict.items():
        if key in KEPT_KEYS:
            continue
        event_dict[key] = REDACTED if key in PERSONAL_KEYS else _redact(value)
    return event_dict
