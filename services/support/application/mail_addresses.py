"""Which customer writes from an address, without keeping addresses: each is stored as
HMAC-SHA256 under a key of the key registry (subject ``support:mail-address-hmac``,
created on first use, wrapped by the master key like every data key). Without that key
the table cannot be reversed by hashing a list of likely addresses.

The worker learns addresses from sales (``learn``); an erasure deletes them (``forget``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

from services.platform.db import Connection
from services.platform.privacy.data_keys import SubjectKeys
from services.support.domain.mail_parsing import normalise_address

ADDRESS_KEY_SUBJECT = "support:mail-address-hmac"
LEAD = "lead"


async def address_hash(keys: SubjectKeys, conn: Connection, address: str) -> bytes:
    """The keyed hash of an address; ``conn``: the caller's transaction, so the key a
    first use creates commits with what uses it."""
    key = (await keys.for_writing([ADDRESS_KEY_SUBJECT], conn))[ADDRESS_KEY_SUBJECT]
    return hmac.new(key, normalise_address(address).encode(), hashlib.sha256).digest()


async def learn(keys: SubjectKeys, conn: Connection, *, record_id: str, customer_id: str,
                kind: str, emails: Iterable[str], at: datetime, replace: bool = False
                ) -> None:  # fmt: skip
    """The record's addresses; ``replace``: they are all it has now (a correction)."""
    if replace:
        await conn.execute("DELETE FROM mail_addresses WHERE record_id = $1", record_id)
    hashes = [await address_hash(keys, conn, e) for e in emails if e.strip()]
    await conn.executemany(
        "INSERT INTO mail_addresses (address_hash, record_id, customer_id, record_kind, "
        "learnt_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (address_hash, record_id) "
        "DO UPDATE SET customer_id = excluded.customer_id",
        [(h, record_id, customer_id, kind, at) for h in dict.fromkeys(hashes)],
    )  # fmt: skip


async def forget(conn: Connection, subjects: Iterable[str]) -> None:
    """An erasure: the subjects' addresses, and the quarantined mail sent from them."""
    hashes = await conn.fetch(
        "DELETE FROM mail_addresses WHERE customer_id = ANY($1::text[]) OR "
        "record_id = ANY($1::text[]) RETURNING address_hash",
        list(subjects),
    )  # fmt: skip
    await conn.execute("DELETE FROM mail_quarantine WHERE sender_hash = ANY($1::bytea[])",
                       [r["address_hash"] for r in hashes])  # fmt: skip


async def customers_of(conn: Connection, hashed: bytes) -> list[str]:
    """The known customers an address is of, following merges, erased ones left out.
    A lead's address counts only when no account or contact has it (a converted lead
    keeps its address on the customer it became)."""
    rows = await conn.fetch(
        "SELECT DISTINCT coalesce(c.merged_into, c.customer_id) AS customer_id, "
        "a.record_kind = $2 AS lead FROM mail_addresses a "
        "JOIN known_customers c ON c.customer_id = a.customer_id "
        "LEFT JOIN known_customers s ON s.customer_id = c.merged_into "
        "WHERE a.address_hash = $1 AND NOT c.erased AND NOT coalesce(s.erased, false)",
        hashed, LEAD,
    )  # fmt: skip
    customers = {r["customer_id"] for r in rows if not r["lead"]}
    return sorted(customers or {r["customer_id"] for r in rows})
