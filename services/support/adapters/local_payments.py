"""A payment provider stand-in that keeps its refunds in a table of its own.

It behaves as a real PSP does with an idempotency key: the first call with a key records
a refund and returns its reference; every later call with that key returns the same
reference and refunds nothing. It writes in its own transaction on its own connection,
as a remote provider would, so a crash of the caller's transaction after the call leaves
the refund recorded here — which is exactly what the caller's retry must cope with.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg

NAME = "local"


class LocalPayments:
    name = NAME

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def refund(self, order_id: UUID, amount: Decimal, currency: str,
                     idempotency_key: str) -> str:  # fmt: skip
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO local_payment_refunds (idempotency_key, reference, order_id, "
                "amount, currency, created_at) VALUES ($1, $2, $3, $4, $5, $6) "
                "ON CONFLICT (idempotency_key) DO NOTHING",
                idempotency_key, f"{NAME}-rf-{uuid4().hex[:16]}", order_id, amount, currency,
                datetime.now(UTC),
            )  # fmt: skip
            reference: str = await conn.fetchval(
                "SELECT reference FROM local_payment_refunds WHERE idempotency_key = $1",
                idempotency_key,
            )
        return reference


def local_payments(pool: asyncpg.Pool, env: Mapping[str, str]) -> LocalPayments:
    return LocalPayments(pool)
