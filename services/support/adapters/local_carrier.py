"""A carrier that needs no carrier: it mints the postage code itself.

The code is an HMAC of the exchange id, so asking again for the same exchange (a retried
command, a replay) gives the same code, and nobody without the secret can forge one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

import asyncpg

from services.support.application.ports import Label, LabelRequest

NAME = "local"
DEV_SECRET = "crm-local-carrier-dev-secret"
"""Only for development: set ``CRM_SUPPORT_CARRIER_SECRET`` anywhere codes matter."""
CODE_LENGTH = 10


class LocalCarrier:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def postage_code(self, exchange: LabelRequest) -> str:
        digest = hmac.new(self._secret, exchange.exchange_id.bytes, hashlib.sha256).digest()
        # Base32: upper-case letters and digits 2-7, nothing to misread when typed at a counter.
        return base64.b32encode(digest).decode()[:CODE_LENGTH]

    async def issue_label(self, exchange: LabelRequest) -> Label:
        return Label(carrier=NAME, label_id=f"{NAME}-{exchange.exchange_id}",
                     postage_code=self.postage_code(exchange),
                     expires_at=exchange.valid_until)  # fmt: skip


def local_carrier(pool: asyncpg.Pool, env: Mapping[str, str]) -> LocalCarrier:
    return LocalCarrier(env.get("CRM_SUPPORT_CARRIER_SECRET", DEV_SECRET))
