"""Personal fields leave the service sealed: the event store holds ciphertext, readers
open it through the key registry, and a destroyed key reads as erased everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from decimal import Decimal

import pytest

from contracts.events.sales import ContactRegistered, PurchaseMade, TaxId
from contracts.money import Money
from contracts.personal import ERASED
from services.platform.eventstore import NO_STREAM, EventStore
from services.platform.privacy.data_keys import DataKeys, SubjectErased
from services.platform.privacy.master import (
    LocalMasterKey,
    MasterKeyError,
    decode_master_key,
    new_master_key,
)
from services.platform.relay_main import EVENTSTORE_SQL
from services.platform.runtime import EXIT_NO_MASTER_KEY

pytestmark = pytest.mark.integration

NAME = "Zuleica Quaresma-Tavares"
EMAIL = "zuleica.quaresma@exemplo.com.br"
PHONE = "+5511987650001"
CPF = "52998224725"


def contact(customer: str) -> ContactRegistered:
    return ContactRegistered(
        contact_id=uuid.UUID(customer), customer_id=customer, first_name=NAME.split()[0],
        last_name=NAME.split()[1], tax_id=TaxId(scheme="cpf", number=CPF, country="BR"),
        phones=[PHONE], emails=[EMAIL],
    )  # fmt: skip


def purchase(customer: str) -> PurchaseMade:
    return PurchaseMade(
        order_id=uuid.uuid4(), customer_id=customer,
        total=Money(amount=Decimal("42.00"), currency="BRL"),
    )  # fmt: skip


async def test_the_store_holds_ciphertext_and_readers_open_it(schema, pool_factory, data_keys):
    pool = await pool_factory(schema, EVENTSTORE_SQL)
    store = EventStore(pool, "/crm/test", keys=data_keys)
    customer = str(uuid.uuid4())
    await store.append(f"contact-{customer}", NO_STREAM, [contact(customer)])
    raw = await pool.fetchval("SELECT payload::text FROM events")
    for value in (NAME.split()[0], EMAIL, PHONE, CPF):
        assert value not in raw
    assert '"personal"' in raw
    assert await pool.fetchval("SELECT schema_version FROM events") == 2
    event = (await store.read_stream(f"contact-{customer}"))[0].domain_event()
    assert isinstance(event, ContactRegistered)
    assert (event.first_name, event.emails, event.phones) == ("Zuleica", [EMAIL], [PHONE])
    assert event.tax_id is not None and event.tax_id.number == CPF


async def test_a_stream_read_without_personal_fields_fetches_no_key(
    schema, pool_factory, data_keys
):
    """What a decider folds: the facts, the personal fields left shut (they read as
    erased), and no key asked of the registry."""
    pool = await pool_factory(schema, EVENTSTORE_SQL)
    store = EventStore(pool, "/crm/test", keys=data_keys)
    customer = str(uuid.uuid4())
    await store.append(f"contact-{customer}", NO_STREAM, [contact(customer)])
    asked: list[object] = []
    reading = data_keys.for_reading

    async def counting(subjects, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(subjects)
        return await reading(subjects, *args, **kwargs)

    data_keys.for_reading = counting  # type: ignore[method-assign]
    try:
        shut = (await store.read_stream(f"contact-{customer}", personal=False))[0]
        assert asked == []
        opened = (await store.read_stream(f"contact-{customer}"))[0]
        assert len(asked) == 1
    finally:
        del data_keys.for_reading
    event = shut.domain_event()
    assert isinstance(event, ContactRegistered)
    assert (event.customer_id, event.first_name, event.emails) == (customer, ERASED, [])
    assert opened.domain_event().first_name == "Zuleica"  # type: ignore[attr-defined]


async def test_a_destroyed_key_reads_as_erased_and_takes_no_new_personal_data(
    schema, pool_factory, data_keys
):
    pool = await pool_factory(schema, EVENTSTORE_SQL)
    store = EventStore(pool, "/crm/test", keys=data_keys)
    customer = str(uuid.uuid4())
    await store.append(f"contact-{customer}", NO_STREAM, [contact(customer)])
    async with pool.acquire() as conn:
        assert await data_keys.destroy(conn, [customer]) == [customer]
        assert await data_keys.destroy(conn, [customer]) == []  # already erased: nothing
    assert (await data_keys.states([customer]))[customer] == "erased"

    event = (await store.read_stream(f"contact-{customer}"))[0].domain_event()
    assert isinstance(event, ContactRegistered)
    assert (event.first_name, event.last_name, event.emails, event.tax_id) == (
        ERASED, ERASED, [], None,
    )  # fmt: skip
    with pytest.raises(SubjectErased):
        await store.append(f"contact-{customer}", 1, [contact(customer)])
    assert await store.stream_version(f"contact-{customer}") == 1  # nothing half-written
    # Facts without personal data (the fiscal record) are still taken for the subject.
    await store.append(f"order-{customer}", NO_STREAM, [purchase(customer)])


async def test_another_processes_cached_key_is_not_used_once_it_reads_the_erasure(
    schema, pool_factory, data_keys
):
    pool = await pool_factory(schema, EVENTSTORE_SQL)
    writer = EventStore(pool, "/crm/test", keys=data_keys)
    customer = str(uuid.uuid4())
    await writer.append(f"contact-{customer}", NO_STREAM, [contact(customer)])
    other = DataKeys(pool, LocalMasterKey(decode_master_key(os.environ["CRM_MASTER_KEY"])),
                     data_keys.schema)  # fmt: skip
    reader = EventStore(pool, "/crm/test", keys=other)
    assert (await reader.read_stream(f"contact-{customer}"))[0].payload["emails"] == [EMAIL]
    async with pool.acquire() as conn:
        await data_keys.destroy(conn, [customer])
    other.forget([customer])  # what a projector does when it reads personal_data_erased
    assert (await reader.read_stream(f"contact-{customer}"))[0].payload["emails"] == []


async def test_a_wrong_master_key_is_refused(data_keys):
    wrong = DataKeys(data_keys._pool, LocalMasterKey(decode_master_key(new_master_key())))
    with pytest.raises(MasterKeyError, match="not the one"):
        await wrong.check_master_key()


@pytest.mark.parametrize("key", ["", "not-base64-of-32-bytes", new_master_key()])
def test_a_process_without_its_master_key_refuses_to_start(infra, key):
    env = {**os.environ, "CRM_DATABASE_URL": infra.database_url, "CRM_MASTER_KEY": key,
           "CRM_KAFKA_BOOTSTRAP": infra.kafka_bootstrap, "CRM_HTTP_PORT": "0"}  # fmt: skip
    env.pop("CRM_KEY_PROVIDER", None)
    done = subprocess.run(
        [sys.executable, "-m", "services.sales", "relay"], env=env, capture_output=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == EXIT_NO_MASTER_KEY, done.stderr.decode()[-2000:]
    assert b"CRM_MASTER_KEY" in done.stderr or b"master key" in done.stderr
