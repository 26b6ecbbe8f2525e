"""Sales forgets an erased subject: a consumer of ``crm.privacy.events``.

``identity_keys`` holds e-mails, phones and tax ids in plain text (duplicate detection
must compare them). When a subject is erased, their keys go, and the erasure's progress
says so, in the same transaction as the consumer's inbox row: redelivered, it changes
nothing; crashed halfway, it is done again whole.
"""

from __future__ import annotations

from functools import partial

import asyncpg

from contracts.events.privacy import PersonalDataErased
from contracts.topics import DEAD_LETTER, PRIVACY
from services.platform.consumer import ConsumedEvent, EventConsumer
from services.platform.db import Connection
from services.platform.kafka import make_producer
from services.platform.logging import get_logger
from services.platform.privacy.data_keys import data_keys_from_environment, record_erasure_done
from services.sales.adapters.postgres import PostgresSalesRecords

GROUP = "sales.erasure"
STORE = "sales"
"""This store's name in the erasure's progress."""
log = get_logger(__name__)


async def forget_erased(
    records: PostgresSalesRecords, conn: Connection, consumed: ConsumedEvent
) -> None:
    """Drop the identity keys of every subject the erasure names; record it done."""
    event = consumed.event
    if not isinstance(event, PersonalDataErased):
        return
    dropped = await records.forget(conn, event.subjects)
    await record_erasure_done(conn, event.request_id, STORE, event.customer_id)
    log.info("sales.erasure_done", request_id=str(event.request_id), identity_keys=dropped)


def erasure_consumer(
    bootstrap: str, pool: asyncpg.Pool, *, topic: str = PRIVACY.name, group: str = GROUP
) -> EventConsumer:
    """The consumer of erasures for the sales store on ``pool``."""
    keys = data_keys_from_environment(pool)
    return EventConsumer(
        group=group,
        topics=[topic],
        pool=pool,
        handler=partial(forget_erased, PostgresSalesRecords(pool, keys)),
        producer_factory=partial(make_producer, bootstrap),
        dead_letter_topic=DEAD_LETTER.name,
        keys=keys,
    )
