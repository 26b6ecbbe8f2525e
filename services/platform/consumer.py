"""Consumer runtime: effectively-once handling of Kafka events into PostgreSQL.

For every record: parse the CloudEvent and its contract; in one PostgreSQL transaction
insert the inbox row (consumer, source, id) and apply the handler; acknowledge the Kafka
offsets only after that transaction commits. A redelivered event finds its inbox row and
is skipped, so applying an event twice equals applying it once.

A record that cannot be parsed, or whose handler keeps failing after ``max_attempts``,
goes to the dead-letter topic with headers naming its source and the error, and the
partition keeps flowing. Infrastructure failures (database or broker unreachable) are
not the record's fault: the batch is rewound and retried, never dead-lettered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from contracts.envelope import CloudEvent, decode_kafka_record
from contracts.events.privacy import PersonalDataErased
from contracts.registry import DomainEvent, parse_data
from contracts.topics import external_refusal, is_external_topic
from services.platform import metrics
from services.platform.db import Connection
from services.platform.faults import CONTENTION, DATABASE_UNREACHABLE
from services.platform.kafka import LazyProducer
from services.platform.logging import get_logger
from services.platform.migrate import INBOX
from services.platform.privacy.codec import keys_for, open_data
from services.platform.privacy.data_keys import SubjectKeys

log = get_logger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    *DATABASE_UNREACHABLE,
    *CONTENTION,
    KafkaError,
)
"""Errors that say nothing about the record: retry the batch, never dead-letter."""

DEAD_LETTER_VALUE_LIMIT = 512 * 1024
"""Bytes of an oversized record's value kept when the whole would not fit the topic."""


@dataclass(frozen=True)
class ConsumedEvent:
    envelope: CloudEvent
    event: DomainEvent
    record: ConsumerRecord[Any, Any]

    @property
    def topic(self) -> str:
        return str(self.record.topic)

    @property
    def partition(self) -> int:
        return int(self.record.partition)

    @property
    def offset(self) -> int:
        return int(self.record.offset)


class Handler(Protocol):
    """Applies one event inside the consumer's open PostgreSQL transaction."""

    async def __call__(self, conn: Connection, event: ConsumedEvent, /) -> None: ...


class BatchHandler(Protocol):
    """Applies a run of fresh events (inbox already claimed) in one go, in their order.

    Optional: a projection that can write a run with one statement (``COPY``, ``unnest``)
    instead of one per event replays many times faster. It must mean exactly the same as
    calling the single-event ``Handler`` on each event in turn; the consumer still uses
    the single-event handler to isolate a failing event.
    """

    async def __call__(self, conn: Connection, events: Sequence[ConsumedEvent], /) -> None: ...


class PoisonRecord(Exception):
    """The record itself is unreadable: not a CloudEvent, or not valid for its contract."""


def decode_record(record: ConsumerRecord[Any, Any]) -> CloudEvent:
    try:
        return decode_kafka_record(record.value, list(record.headers or ()))
    except Exception as exc:  # whatever the bytes make a parser do, it is the record's fault
        raise PoisonRecord(f"{type(exc).__name__}: {exc}") from exc


def parse_record(
    record: ConsumerRecord[Any, Any],
    subject_keys: Mapping[str, bytes | None],
    envelope: CloudEvent | None = None,
) -> ConsumedEvent:
    """The record's event, its personal fields opened with ``subject_keys`` (fetched for
    the batch by ``read_records``), or read as erased where a subject's key is gone."""
    if envelope is None:
        envelope = decode_record(record)
    try:
        data = open_data(envelope.type, envelope.data, subject_keys)
        event = parse_data(envelope.type, envelope.schemaversion, data)
    except Exception as exc:  # a forged box or invalid data: the record's fault
        raise PoisonRecord(f"{type(exc).__name__}: {exc}") from exc
    if is_external_topic(str(record.topic)):
        refusal = external_refusal(envelope.type, envelope.source)
        if refusal is not None:
            raise PoisonRecord(f"ExternalEventRefused: {refusal}")
    return ConsumedEvent(envelope, event, record)


async def read_records(
    keys: SubjectKeys, records: Sequence[ConsumerRecord[Any, Any]]
) -> tuple[list[ConsumedEvent], list[tuple[ConsumerRecord[Any, Any], PoisonRecord]]]:
    """The records' events, and the records that are not readable events. The keys of
    the batch's subjects are fetched at once (a database fault raises: retry the batch)."""
    poison: list[tuple[ConsumerRecord[Any, Any], PoisonRecord]] = []
    decoded: list[tuple[ConsumerRecord[Any, Any], CloudEvent]] = []
    for record in records:
        try:
            decoded.append((record, decode_record(record)))
        except PoisonRecord as exc:
            poison.append((record, exc))
    subject_keys = await keys_for(keys, (envelope.data for _, envelope in decoded))
    parsed: list[ConsumedEvent] = []
    for record, envelope in decoded:
        try:
            parsed.append(parse_record(record, subject_keys, envelope))
        except PoisonRecord as exc:
            poison.append((record, exc))
    erased = [
        s for p in parsed if isinstance(p.event, PersonalDataErased) for s in p.event.subjects
    ]
    if erased:  # keys cached before the erasure must not open anything read after it
        keys.forget(erased)
    return parsed, poison


async def _raw_batch_parser(records: tuple[Any, ...], original: Any) -> Any:
    """FastStream's parser without its header decoding (UTF-8 only, fails on None).

    It only sees header-less shadows of the first and last records (all it takes from a
    batch we decode ourselves is their offsets and topic; shadowing 5,000 records cost a
    replay 5 % of its time); the handler gets the untouched records, so a record
    FastStream could not decode reaches us and goes to the dead-letter topic instead of
    being dropped with its whole batch.
    """
    ends = (records[0], records[-1]) if len(records) > 1 else records
    message = await original(tuple(dataclasses.replace(r, headers=()) for r in ends))
    message.raw_message = records
    return message


async def _raw_decoder(message: Any, original: Any) -> Any:
    """No JSON decoding by FastStream: ``parse_record`` reads the bytes itself."""
    return None


class EventConsumer:
    """One consumer group applying events from ``topics`` to its PostgreSQL state."""

    def __init__(
        self,
        *,
        group: str,
        topics: Sequence[str],
        pool: asyncpg.Pool,
        handler: Handler,
        producer_factory: Callable[[], AIOKafkaProducer],
        dead_letter_topic: str,
        keys: SubjectKeys,
        max_attempts: int = 3,
        retry_backoff: float = 0.05,
        batch_size: int = 500,
        batch_handler: BatchHandler | None = None,
    ) -> None:
        self.group = group
        self.topics = list(topics)
        self._pool = pool
        self.keys = keys
        self._handler = handler
        self._batch_handler = batch_handler
        self._producer = LazyProducer(producer_factory)
        self.dead_letter_topic = dead_letter_topic
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.batch_size = batch_size
        self.ready = asyncio.Event()
        self.stopping = False
        self._dead_lettered: set[tuple[str, int, int]] = set()
        self._subscriber: Any = None

    def attach(self, broker: KafkaBroker) -> None:
        """Register this consumer's batch subscriber on a FastStream broker."""
        subscriber = broker.subscriber(
            *self.topics,
            group_id=self.group,
            batch=True,
            max_records=self.batch_size,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            parser=_raw_batch_parser,
            decoder=_raw_decoder,
            title=self.group,
            description=f"consumer group {self.group}",
        )

        @subscriber  # type: ignore[untyped-decorator]
        async def on_batch(body: Any, msg: KafkaMessage) -> None:
            await self.on_batch(msg)

        self._subscriber = subscriber

    async def lag(self) -> int | None:
        """Records of the partitions assigned to this process not yet acknowledged (that is,
        not yet committed to PostgreSQL); None when it is not consuming: not started,
        stopping, or given no partition (a rebalance, or more members than partitions)."""
        kafka = getattr(self._subscriber, "consumer", None)
        if kafka is None or self.stopping:
            return None
        assigned = list(kafka.assignment())
        if not assigned:
            return None
        ends = await kafka.end_offsets(assigned)
        starts = await kafka.beginning_offsets(assigned)
        behind = 0
        for tp in assigned:
            committed = await kafka.committed(tp)
            behind += max(0, ends[tp] - (starts[tp] if committed is None else committed))
        return int(behind)

    async def on_batch(self, msg: KafkaMessage) -> None:
        """Handle a batch; leave only after acknowledging it or rewinding to it."""
        records: tuple[ConsumerRecord[Any, Any], ...] = msg.raw_message
        dead_lettered: set[tuple[str, int, int]] = set()  # survives retries of this batch
        backoff = 0.1
        while True:
            if self.stopping:
                return  # unacknowledged: the next owner of the partition starts here again
            try:
                await self.process(records, dead_lettered)
                break
            except TRANSIENT_ERRORS as exc:
                # Nothing of the failed transaction is visible; inbox rows make the
                # committed part harmless to repeat. Try again.
                log.warning("consumer.transient_error", group=self.group, error=repr(exc))
            except Exception as exc:
                # Not the record's fault as far as we can tell (poison is handled inside
                # process). Returning without an ack would let the next poll move past
                # this batch and a later ack commit it: rewind to it instead.
                log.error("consumer.batch_failed", group=self.group, error=repr(exc))
                await msg.nack()
                await asyncio.sleep(backoff)
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
        # Offsets are acknowledged only after every record's transaction has committed.
        await msg.ack()
        self._observe_lag(msg, records)

    async def process(
        self,
        records: Sequence[ConsumerRecord[Any, Any]],
        dead_lettered: set[tuple[str, int, int]] | None = None,
    ) -> None:
        """Apply a batch: commit good records together, isolate failing ones.

        ``dead_lettered`` remembers what this batch already sent to the dead-letter topic,
        so retrying the batch after a transient error does not send it twice.
        """
        parsed, poison = await self.parse(records)
        await self.apply(parsed, poison, dead_lettered)

    async def parse(
        self, records: Sequence[ConsumerRecord[Any, Any]]
    ) -> tuple[list[ConsumedEvent], list[tuple[ConsumerRecord[Any, Any], PoisonRecord]]]:
        """The records' events, and the records that are not readable events."""
        return await read_records(self.keys, records)

    async def apply(
        self,
        parsed: list[ConsumedEvent],
        poison: Sequence[tuple[ConsumerRecord[Any, Any], PoisonRecord]] = (),
        dead_lettered: set[tuple[str, int, int]] | None = None,
    ) -> None:
        """Dead-letter ``poison``, then apply ``parsed`` (see ``process``)."""
        self._dead_lettered = dead_lettered if dead_lettered is not None else set()
        for record, exc in poison:
            await self._dead_letter(record, exc, attempts=1)
        start = 0
        while start < len(parsed):
            failed = await self._apply_run(parsed, start)
            if failed is None:
                break
            failed_at, attempts_used = failed
            await self._retry_alone(parsed[failed_at], attempts_used)
            start = failed_at + 1

    async def _apply_run(self, events: list[ConsumedEvent], start: int) -> tuple[int, int] | None:
        """Apply events from ``start``; on a handler failure return (its index, attempts).

        Fast path: one transaction, one inbox statement for the whole run. If a handler
        fails, that transaction is rolled back and the run is redone one savepoint per
        event, to commit the good ones and single out the failing one.
        """
        run = events[start:]
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                fresh = await self._claim(conn, run)
                firsts: list[ConsumedEvent] = []
                for event in run:
                    key = (event.envelope.source, event.envelope.id)
                    if key not in fresh:
                        metrics.DUPLICATES.labels(self.group, event.topic).inc()
                        continue
                    fresh.discard(key)  # the same event twice in one batch: once
                    firsts.append(event)
                if self._batch_handler is not None:
                    await self._batch_handler(conn, firsts)
                    for topic, count in Counter(e.topic for e in firsts).items():
                        metrics.CONSUMED.labels(self.group, topic).inc(count)
                else:
                    for event in firsts:
                        await self._handle(conn, event)
            return None
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            failed_at = await self._apply_run_isolated(events, start)
            # The fast path's failure was the first attempt, the isolated run the second.
            return None if failed_at is None else (failed_at, 2)

    async def _claim(self, conn: Connection, run: list[ConsumedEvent]) -> set[tuple[str, str]]:
        """Insert inbox rows for ``run``; return the (source, id) pairs seen for the first time."""
        rows = await conn.fetch(
            "INSERT INTO inbox (consumer, event_source, event_id, topic, kafka_partition, "
            "kafka_offset) SELECT $1, s, i, t, p, o "
            "FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[]) "
            "AS x(s, i, t, p, o) ON CONFLICT DO NOTHING RETURNING event_source, event_id",
            self.group,
            [e.envelope.source for e in run],
            [e.envelope.id for e in run],
            [e.topic for e in run],
            [e.partition for e in run],
            [e.offset for e in run],
        )
        return {(r["event_source"], r["event_id"]) for r in rows}

    async def _apply_run_isolated(self, events: list[ConsumedEvent], start: int) -> int | None:
        """Slow path: a savepoint per event; stop at the first failure, keep the rest."""
        failed_at: int | None = None
        async with self._pool.acquire() as conn, conn.transaction():
            for index in range(start, len(events)):
                try:
                    async with conn.transaction():  # a savepoint per event
                        await self._apply_one(conn, events[index])
                except TRANSIENT_ERRORS:
                    raise
                except Exception as exc:
                    log.warning(
                        "consumer.handler_failed",
                        group=self.group,
                        event_id=events[index].envelope.id,
                        error=repr(exc),
                        attempt=1,
                    )
                    failed_at = index
                    break
        return failed_at

    async def _retry_alone(self, event: ConsumedEvent, attempts_used: int) -> None:
        """Retry one failing event in its own transactions, then dead-letter it.

        No transaction stays open while we back off: an open transaction holding an xid
        would hold back every relay's horizon in the cluster.
        """
        error: Exception | None = None
        for attempt in range(attempts_used + 1, self.max_attempts + 1):
            await asyncio.sleep(self.retry_backoff * 2 ** (attempt - attempts_used - 1))
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    await self._apply_one(conn, event)
                return
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:
                error = exc
                log.warning(
                    "consumer.handler_failed",
                    group=self.group,
                    event_id=event.envelope.id,
                    error=repr(exc),
                    attempt=attempt,
                )
        await self._dead_letter(
            event,
            error or RuntimeError("handler failed"),
            attempts=max(attempts_used, self.max_attempts),
        )

    async def _apply_one(self, conn: Connection, event: ConsumedEvent) -> None:
        if not await self._claim(conn, [event]):
            metrics.DUPLICATES.labels(self.group, event.topic).inc()
            return
        await self._handle(conn, event)

    async def _handle(self, conn: Connection, event: ConsumedEvent) -> None:
        env = event.envelope
        structlog.contextvars.bind_contextvars(
            event_id=env.id, stream_id=env.streamid, correlation_id=env.correlationid
        )
        try:
            await self._handler(conn, event)
            metrics.CONSUMED.labels(self.group, event.topic).inc()
        finally:
            structlog.contextvars.unbind_contextvars("event_id", "stream_id", "correlation_id")

    async def _dead_letter(
        self, source: ConsumerRecord[Any, Any] | ConsumedEvent, error: BaseException, attempts: int
    ) -> None:
        record = source.record if isinstance(source, ConsumedEvent) else source
        topic, partition, offset = record.topic, record.partition, record.offset
        if (topic, partition, offset) in self._dead_lettered:
            return
        dlt_headers = [
            ("dlt.source.topic", topic.encode()),
            ("dlt.source.partition", str(partition).encode()),
            ("dlt.source.offset", str(offset).encode()),
            ("dlt.consumer.group", self.group.encode()),
            ("dlt.error.class", type(error).__name__.encode()),
            ("dlt.error.message", str(error)[:4000].encode()),
            ("dlt.attempts", str(attempts).encode()),
            ("dlt.failed.at", datetime.now(UTC).isoformat().encode()),
        ]
        producer = await self._producer.get()
        headers = [*_kept_headers(record.headers), *dlt_headers]
        try:
            try:
                await producer.send_and_wait(
                    self.dead_letter_topic, value=record.value, key=record.key, headers=headers
                )
            except MessageSizeTooLargeError:
                # The record plus our headers no longer fits: keep its head, say so, rather
                # than retry forever and stop the partition.
                await producer.send_and_wait(
                    self.dead_letter_topic,
                    value=(record.value or b"")[:DEAD_LETTER_VALUE_LIMIT],
                    key=record.key,
                    headers=[*dlt_headers, ("dlt.truncated", str(len(record.value)).encode())],
                )
        except KafkaError:
            await self._producer.drop()  # a fresh producer next time; the batch is retried
            raise
        self._dead_lettered.add((topic, partition, offset))
        metrics.DEAD_LETTERED.labels(self.group, topic).inc()
        log.error(
            "consumer.dead_lettered",
            group=self.group,
            topic=topic,
            partition=partition,
            offset=offset,
            error=f"{type(error).__name__}: {error}",
        )

    async def close(self) -> None:
        await self._producer.drop()

    def _observe_lag(self, msg: KafkaMessage, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        consumer = getattr(msg, "consumer", None)
        if consumer is None or not hasattr(consumer, "highwater"):
            return
        last: dict[TopicPartition, int] = {}
        for r in records:
            last[TopicPartition(r.topic, r.partition)] = r.offset
        for tp, offset in last.items():
            high = consumer.highwater(tp)
            if high is not None:
                metrics.CONSUMER_LAG.labels(self.group, tp.topic, str(tp.partition)).set(
                    max(0, high - offset - 1)
                )


_RUNNING: set[EventConsumer] = set()
"""The consumers ``run_consumers`` runs in this process, for readiness checks."""


def running_consumers() -> tuple[EventConsumer, ...]:
    """The consumers running in this process now."""
    return tuple(_RUNNING)


async def consuming_within(max_lag: int) -> bool:
    """Ready: at least one consumer runs in this process, and every one of them has
    partitions assigned and at most ``max_lag`` records left to handle on them."""
    if not _RUNNING:
        return False
    for consumer in list(_RUNNING):
        lag = await consumer.lag()
        if lag is None or lag > max_lag:
            return False
    return True


async def run_consumers(
    bootstrap: str,
    consumers: Sequence[EventConsumer],
    stop: asyncio.Event,
    on_started: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run consumers on one FastStream broker until ``stop`` is set, then shut down."""
    broker = KafkaBroker(bootstrap, logger=None)
    for consumer in consumers:
        consumer.attach(broker)
    await broker.start()
    started = time.monotonic()
    for consumer in consumers:
        consumer.ready.set()
        _RUNNING.add(consumer)
    log.info("consumers.started", groups=[c.group for c in consumers], bootstrap=bootstrap)
    if on_started is not None:
        await on_started()
    try:
        await stop.wait()
    finally:
        for consumer in consumers:
            consumer.stopping = True
            _RUNNING.discard(consumer)
        await broker.stop()
        for consumer in consumers:
            await consumer.close()
        log.info("consumers.stopped", ran_seconds=round(time.monotonic() - started, 1))


INBOX_SQL = INBOX
"""The inbox table's migration set (the name predates migrations)."""


def _kept_headers(headers: Sequence[tuple[str, bytes]] | None) -> list[tuple[str, bytes]]:
    """Original headers minus a previous dead-lettering's, keeping the redrive trail."""
    return [h for h in headers or () if not h[0].startswith("dlt.") or h[0] == "dlt.redriven.from"]
