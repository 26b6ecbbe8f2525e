"""The carrier and the payment provider are whatever the configuration names
(``CRM_SUPPORT_CARRIER`` / ``CRM_SUPPORT_PAYMENTS`` = ``module:factory``), the local ones
by default: a provider of one's own plugs in without a line of support code."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from services.support.adapters.local_carrier import LocalCarrier
from services.support.adapters.local_payments import LocalPayments
from services.support.bootstrap import bootstrap, load_config


class RecordingPayments:
    name = "acme-psp"

    def __init__(self, pool: object, env: Mapping[str, str]) -> None:
        self.env = env

    async def refund(self, order_id: UUID, amount: Decimal, currency: str,
                     idempotency_key: str) -> str:  # fmt: skip
        return f"acme-{idempotency_key}"


def acme_payments(pool: object, env: Mapping[str, str]) -> RecordingPayments:
    return RecordingPayments(pool, env)


TEST_MASTER_KEY = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="  # 32 bytes of 0x07


class _Pool:
    """Bootstrap only hands the pool on; nothing here touches a database."""


def _runtime(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(
        "CRM_MASTER_KEY", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="
    )  # a test key
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return bootstrap(_Pool(), config=load_config(env))  # type: ignore[arg-type]


def test_the_local_adapters_are_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = _runtime({}, monkeypatch)
    assert isinstance(runtime.payments, LocalPayments)
    assert isinstance(runtime.carrier, LocalCarrier)


def test_a_configured_payment_provider_is_the_one_used(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = f"{__name__}:acme_payments"
    runtime = _runtime({"CRM_SUPPORT_PAYMENTS": spec}, monkeypatch)
    assert isinstance(runtime.payments, RecordingPayments)
    assert runtime.payments.name == "acme-psp"
    assert isinstance(runtime.carrier, LocalCarrier)  # the other stays local


def test_a_malformed_adapter_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="module:factory"):
        _runtime({"CRM_SUPPORT_PAYMENTS": "no-colon-here"}, monkeypatch)
