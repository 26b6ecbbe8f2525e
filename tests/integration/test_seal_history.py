"""History written before sealing is sealed in place; an erased subject's is dropped."""

from __future__ import annotations

import uuid

import pytest

from contracts.events.sales import ContactRegistered
from contracts.personal import ERASED
from services.platform.eventstore import NO_STREAM, EventStore
from services.platform.privacy.history import seal_history
from services.platform.relay_main import EVENTSTORE_SQL

pytestmark = pytest.mark.integration


def contact(customer: str, name: str) -> ContactRegistered:
    return ContactRegistered(contact_id=uuid.UUID(customer), customer_id=customer,
                             first_name=name, emails=[f"{name.lower()}@old.example"])  # fmt: skip


async def test_plain_history_is_sealed_and_an_erased_subjects_is_dropped(
    schema, pool_factory, data_keys
):
    pool = await pool_factory(schema, EVENTSTORE_SQL)
    old_release = EventStore(pool, "/crm/test", keys=None)  # wrote plain text
    kept, gone = str(uuid.uuid4()), str(uuid.uuid4())
    await old_release.append(f"contact-{kept}", NO_STREAM, [contact(kept, "Ondina")])
    await old_release.append(f"contact-{gone}", NO_STREAM, [contact(gone, "Belmira")])
    await pool.execute("UPDATE events SET schema_version = 1")  # as the old release wrote it
    async with pool.acquire() as conn:
        await data_keys.destroy(conn, [gone])
        async with conn.transaction():
            assert await seal_history(conn, schema, data_keys) == (1, 1)
        assert await seal_history(conn, schema, data_keys) == (0, 1)  # nothing new to seal

    raw = " ".join(r["p"] for r in await pool.fetch("SELECT payload::text AS p FROM events"))
    assert "Ondina" not in raw and "ondina@" not in raw and "Belmira" not in raw
    store = EventStore(pool, "/crm/test", keys=data_keys)
    [opened] = await store.read_stream(f"contact-{kept}")
    assert (opened.schema_version, opened.payload["first_name"]) == (2, "Ondina")
    [erased] = await store.read_stream(f"contact-{gone}")
    assert (erased.schema_version, erased.payload["first_name"]) == (1, ERASED)
    assert erased.payload["emails"] == []
