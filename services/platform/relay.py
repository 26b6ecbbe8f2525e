"""Outbox relay: publishes every committed event to Kafka, gap-free and in order.

Tailing by a sequence is wrong: a position is assigned at insert but visible at commit,
so a reader that checkpoints "highest position seen" skips events that commit late.
This relay reads events whose transaction id is below the horizon of the current
snapshot (``pg_snapshot_xmin``) — every transaction there has finished — in
(transaction id, position) order after its checkpoint. It awaits the broker's
acknowledgement (acks=all, idempotent producer) for a whole batch before moving the
checkpoint, so a crash re-publishes (at least once) but never skips. One relay per
store is active at a time (a PostgreSQL advisory lock); others wait as standbys.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from contracts.envelope import STRUCTURED_CONTENT_TYPE
from services.platform import metrics
from services.platform.db import Connection
from services.platform.eventstore import RecordedEvent, wire_record
from services.platform.kafka import LazyProducer
from services.platform.logging import get_logger

log = get_logger(__name__)

# Only what the wire record and the checkpoint need: this runs for every published event.
_FETCH = """
SELECT global_position, transaction_id::text AS xid8, event_id, source, event_type,
       schema_version, occurred_at, stream_id, stream_version, customer_id, correlation_id,
       causation_id, payload::text AS payload
FROM events
WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY transaction_id, global_position
LIMIT $3
"""

_SAVE = """
INSERT INTO relay_checkpoints (relay, last_transaction_id, last_position, published_total)
VALUES ($1, $2::text::xid8, $3, $4)
ON CONFLICT (relay) DO UPDATE SET last_transaction_id = excluded.last_transaction_id,
    last_position = excluded.last_position,
    published_total = relay_checkpoints.published_total + $4,
    updated_at = now()
"""


@dataclass(frozen=True)
class RelayCheckpoint:
    transaction_id: str = "0"
    position: int = 0


@dataclass(frozen=True)
class _InFlight:
    futures: list[asyncio.Future[Any]]
    last: RelayCheckpoint
    count: int
    started: float


_HEADERS = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]


class OutboxRelay:
    """Moves events from one store (a PostgreSQL schema) to one Kafka topic."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer_factory: Callable[[], AIOKafkaProducer],
        topic: str,
        *,
        name: str | None = None,
        batch_size: int = 3000,
        idle_interval: float = 0.02,
        checkpoint_delay: float = 0.0,
    ) -> None:
        self._pool = pool
        self.topic = topic
        self.name = name or f"relay:{topic}"
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        # Fault-injection only (tests widen the window between ack and checkpoint to
        # prove a crash there re-publishes instead of losing): never set in production.
        self.checkpoint_delay = checkpoint_delay
        self._producer = LazyProducer(producer_factory)
        self._checkpoint: RelayCheckpoint | None = None
        self.ready = asyncio.Event()
        self.published_total = 0
        """Events acknowledged and checkpointed by this instance (re-sends included)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set; survive broker and database outages."""
        backoff = 0.1
        while not stop.is_set():
            try:
                async with self._pool.acquire() as conn:
                    if not await self._wait_for_leadership(conn, stop):
                        break
                    try:
                        log.info("relay.leader", relay=self.name, topic=self.topic)
                        self._checkpoint = await self._load_checkpoint()
                        # Connect before the first event arrives, not on it.
                        await self.connect()
                        self.ready.set()
                        await self._pump(conn, stop)
                    finally:
                        if not conn.is_closed():
                            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", self.name)
            except (KafkaError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # Unknown state of the producer (e.g. OutOfOrderSequence after a broker
                # blip stalls aiokafka's idempotent producer): throw it away, start anew
                # from the checkpoint. Events since then are re-sent (at least once).
                log.warning("relay.retry", relay=self.name, error=repr(exc), backoff=backoff)
                metrics.RELAY_ERRORS.labels(self.name).inc()
                await self._producer.drop()
                self._checkpoint = None
                self.ready.clear()
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 5.0)
        await self._producer.drop()

    async def _pump(self, conn: Connection, stop: asyncio.Event) -> None:
        """Publish continuously, one batch in flight while the next is read and sent.

        Kafka keeps per-partition order across batches (idempotent producer: a later
        batch cannot land before an earlier one that failed), and each checkpoint is
        written only after its own batch is acknowledged, in order.
        """
        assert self._checkpoint is not None
        cursor = self._checkpoint
        in_flight: deque[_InFlight] = deque()
        while not stop.is_set():
            # The same connection holds the leader lock: if it breaks, the lock is gone
            # and so is our right to move the checkpoint (the error restarts the relay).
            batch = await self._send_next(conn, cursor) if len(in_flight) < 2 else None
            if batch is not None:
                in_flight.append(batch)
                cursor = batch.last
            drained = batch is None or batch.count < self.batch_size
            if in_flight and (drained or len(in_flight) >= 2):
                await self._complete(conn, in_flight.popleft())
            elif not in_flight:
                await _sleep_or_stop(stop, self.idle_interval)
        while in_flight:  # stopping: finish what was sent, so its checkpoint is kept
            await self._complete(conn, in_flight.popleft())

    async def publish_batch(self, conn: Connection) -> int:
        """Publish the next batch below the horizon and checkpoint it; return its size."""
        if self._checkpoint is None:
            self._checkpoint = await self._load_checkpoint()
        batch = await self._send_next(conn, self._checkpoint)
        if batch is None:
            return 0
        await self._complete(conn, batch)
        return batch.count

    async def _send_next(self, conn: Connection, after: RelayCheckpoint) -> _InFlight | None:
        rows = await conn.fetch(_FETCH, after.transaction_id, after.position, self.batch_size)
        if not rows:
            return None
        producer = await self._producer.get()
        started = time.perf_counter()
        futures = []
        for row in rows:
            key, value = wire_record(row)
            futures.append(await producer.send(self.topic, value=value, key=key, headers=_HEADERS))
        last = rows[-1]
        return _InFlight(
            futures, RelayCheckpoint(last["xid8"], last["global_position"]), len(rows), started
        )

    async def _complete(self, conn: Connection, batch: _InFlight) -> None:
        # The checkpoint moves only once the broker acknowledged every record.
        await asyncio.gather(*batch.futures)
        if self.checkpoint_delay:
            await asyncio.sleep(self.checkpoint_delay)
        async with conn.transaction():
            # Losing the latest checkpoint in a database crash only re-publishes (at
            # least once), so it need not wait for the WAL flush.
            await conn.execute("SET LOCAL synchronous_commit = off")
            await conn.execute(
                _SAVE, self.name, batch.last.transaction_id, batch.last.position, batch.count
            )
        self._checkpoint = batch.last
        self.published_total += batch.count
        metrics.RELAY_PUBLISHED.labels(self.name).inc(batch.count)
        metrics.RELAY_BATCH_SECONDS.labels(self.name).observe(time.perf_counter() - batch.started)

    async def connect(self) -> None:
        """Connect the producer now rather than on the first event."""
        await self._producer.get()

    async def close(self) -> None:
        """Release the producer (``run`` does this itself when it stops)."""
        await self._producer.drop()

    async def lag(self) -> int:
        """Committed events not yet acknowledged by Kafka."""
        cp = self._checkpoint or await self._load_checkpoint()
        value = await self._pool.fetchval(
            "SELECT count(*) FROM events "
            "WHERE (transaction_id, global_position) > ($1::text::xid8, $2)",
            cp.transaction_id,
            cp.position,
        )
        return int(value)

    async def _load_checkpoint(self) -> RelayCheckpoint:
        row = await self._pool.fetchrow(
            "SELECT last_transaction_id::text AS xid, last_position FROM relay_checkpoints "
            "WHERE relay = $1",
            self.name,
        )
        if row is None:
            return RelayCheckpoint()
        return RelayCheckpoint(row["xid"], row["last_position"])

    async def _wait_for_leadership(self, conn: Connection, stop: asyncio.Event) -> bool:
        """Hold the relay's advisory lock on ``conn``; False if stopped while waiting."""
        while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", self.name):
            await _sleep_or_stop(stop, 1.0)
            if stop.is_set():
                return False
        return True


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


__all__ = ["OutboxRelay", "RecordedEvent", "RelayCheckpoint"]
