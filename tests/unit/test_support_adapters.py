"""The self-service adapters are chosen by configuration: the local ones unless the
environment names others (``module:factory``), and then the named ones serve."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

import asyncpg
import pytest

from services.support.adapters.local_carrier import LocalCarrier
from services.support.adapters.local_payments import LocalPayments
from services.support.application.ports import Label, LabelRequest
from services.support.bootstrap import bootstrap, load_config

NO_POOL = cast(asyncpg.Pool, object())  # nothing here talks to a database


class RecordingPayments:
    """A test double of the payments port: remembers what it was asked."""

    name = "recording-psp"

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def refund(self, order_id: UUID, amount: Decimal, currency: str,
                     idempotency_key: str) -> str:  # fmt: skip
        self.asked.append(idempotency_key)
        return f"psp-{idempotency_key}"


class FixedCarrier:
    async def issue_label(self, exchange: LabelRequest) -> Label:
        return Label(carrier="test-carrier", label_id="L-1", postage_code="TESTCODE")


def recording_payments(pool: asyncpg.Pool, env: Mapping[str, str]) -> RecordingPayments:
    return RecordingPayments()


def fixed_carrier(pool: asyncpg.Pool, env: Mapping[str, str]) -> FixedCarrier:
    return FixedCarrier()


def test_the_local_adapters_serve_by_default() -> None:
    runtime = bootstrap(NO_POOL, config=load_config(env={}))
    assert isinstance(runtime.carrier, LocalCarrier)
    assert isinstance(runtime.payments, LocalPayments)


async def test_the_adapters_the_configuration_names_are_used() -> None:
    env = {"CRM_SUPPORT_PAYMENTS": f"{__name__}:recording_payments",
           "CRM_SUPPORT_CARRIER": f"{__name__}:fixed_carrier"}  # fmt: skip
    runtime = bootstrap(NO_POOL, config=load_config(env=env))
    assert isinstance(runtime.payments, RecordingPayments)
    assert isinstance(runtime.carrier, FixedCarrier)
    assert await runtime.payments.refund(UUID(int=1), Decimal("1"), "BRL", "k") == "psp-k"
    request: Any = LabelRequest(UUID(int=2), UUID(int=3), "c", "p", 1, datetime.now(UTC),
                                datetime.now(UTC))  # fmt: skip
    assert (await runtime.carrier.issue_label(request)).postage_code == "TESTCODE"


@pytest.mark.parametrize("spec", ["no-colon", ":factory", "module:"])
def test_a_malformed_adapter_name_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="module:factory"):
        bootstrap(NO_POOL, config=load_config(env={"CRM_SUPPORT_PAYMENTS": spec}))
