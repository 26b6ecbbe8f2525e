"""Logs never carry personal data: values under personal keys, and e-mail addresses, tax
ids and phone numbers anywhere in a line's text, are replaced; identifiers stay."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
import structlog

from services.platform.logging import configure_logging, get_logger
from services.platform.redaction import REDACTED, redact_personal_data, scrub

# Values as a person types them (the seeds' countries): none may reach a log.
PERSONAL = [
    "josefa.santos@padaria-sao-jorge.com.br",
    "529.982.247-25",  # CPF
    "11.222.333/0001-81",  # CNPJ
    "20-12345678-6",  # CUIT
    "+55 11 91234-5678",
    "(11) 91234-5678",
    "+54 9 11 2345-6789",
    "11912345678",
]


@pytest.mark.parametrize("value", PERSONAL)
def test_personal_data_in_any_text_is_replaced(value: str) -> None:
    text = f"ContactRegistered refused for {value}: duplicate"
    assert value not in scrub(text)
    assert scrub(text) == f"ContactRegistered refused for {REDACTED}: duplicate"


@pytest.mark.parametrize(
    "text",
    [
        str(uuid.UUID("12345678-1234-5678-1234-567812345678")),
        "lead-2da8887f-a3de-40cb-9994-838645128ae6",
        "2026-12-02T08:06:08.162862Z",
        "occurred 2026-11-25 10:00:00 at offset 1234567",  # a date, a short number
        "postgresql://crm@127.0.0.1:55432/crm",
        "topic crm.sales.events partition 2",
    ],
)
def test_identifiers_dates_and_addresses_of_machines_are_kept(text: str) -> None:
    assert scrub(text) == text


def test_values_under_personal_keys_are_replaced_whole_and_ids_kept() -> None:
    event_id = str(uuid.uuid4())
    line = redact_personal_data(None, "info", {
        "event": "sales.duplicate", "name": "Josefa Santos", "address": {"city": "Recife"},
        "payload": {"first_name": "Josefa", "emails": ["j@x.com.br"], "amount": "10.00"},
        "event_id": event_id, "stream_id": "contact-1", "attempts": 3,
    })  # fmt: skip
    assert line == {
        "event": "sales.duplicate", "name": REDACTED, "address": REDACTED,
        "payload": {"first_name": REDACTED, "emails": REDACTED, "amount": "10.00"},
        "event_id": event_id, "stream_id": "contact-1", "attempts": 3,
    }  # fmt: skip


def test_every_line_the_process_writes_is_redacted_tracebacks_and_libraries_included(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", json=True)
    try:
        try:
            raise ValueError("invalid e-mail josefa.santos@padaria-sao-jorge.com.br")
        except ValueError:
            get_logger("test").exception("http.unexpected_error", tax_id="529.982.247-25")
        logging.getLogger("uvicorn.error").warning("client sent (11) 91234-5678")
        out = capsys.readouterr().out
    finally:
        structlog.reset_defaults()
        # The suite's own set-up (conftest), bound to the session's stdout: the captured
        # one this test writes to is closed when it ends, and later tests log on.
        with capsys.disabled():
            configure_logging("WARNING", json=False)
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [line["event"] for line in lines] == [
        "http.unexpected_error", f"client sent {REDACTED}"
    ]  # fmt: skip
    assert "ValueError" in lines[0]["exception"]
    for secret in ("josefa.santos", "529.982.247-25", "91234-5678"):
        assert secret not in out
