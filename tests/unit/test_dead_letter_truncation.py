"""A record too large to dead-letter with our headers is truncated, not retried forever."""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.errors import MessageSizeTooLargeError

from services.platform.consumer import DEAD_LETTER_VALUE_LIMIT, EventConsumer
from services.platform.privacy.memory_keys import InMemoryDataKeys


class TopicWithSizeLimit:
    """Stands in for the producer: refuses values over the limit like a broker would."""

    limit = 1024 * 1024

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send_and_wait(self, topic: str, value: bytes, key: bytes, headers: list) -> None:
        size = len(value) + sum(len(k) + len(v) for k, v in headers)
        if size > self.limit:
            raise MessageSizeTooLargeError()
        self.sent.append({"topic": topic, "value": value, "headers": dict(headers)})


async def test_oversized_dead_letter_keeps_the_head_and_says_how_large_it_was():
    producer = TopicWithSizeLimit()
    consumer = EventConsumer(
        group="g", topics=["t"], pool=None, handler=None,  # type: ignore[arg-type]
        keys=InMemoryDataKeys(),
        producer_factory=lambda: producer, dead_letter_topic="dlt",  # type: ignore[arg-type,return-value]
    )  # fmt: skip
    value = b"x" * (TopicWithSizeLimit.limit - 100)
    record = ConsumerRecord("t", 0, 7, 0, 0, b"k", value, None, 1, len(value), [])
    await consumer._dead_letter(record, ValueError("y" * 3000), attempts=1)
    [sent] = producer.sent
    assert sent["topic"] == "dlt"
    assert sent["value"] == value[:DEAD_LETTER_VALUE_LIMIT]
    assert sent["headers"]["dlt.truncated"] == str(len(value)).encode()
    assert sent["headers"]["dlt.source.offset"] == b"7"


async def test_a_record_that_fits_is_dead_lettered_whole():
    producer = TopicWithSizeLimit()
    consumer = EventConsumer(
        group="g", topics=["t"], pool=None, handler=None,  # type: ignore[arg-type]
        keys=InMemoryDataKeys(),
        producer_factory=lambda: producer, dead_letter_topic="dlt",  # type: ignore[arg-type,return-value]
    )  # fmt: skip
    record = ConsumerRecord("t", 0, 8, 0, 0, b"k", b"{bad", None, 1, 4, [])
    await consumer._dead_letter(record, ValueError("bad"), attempts=1)
    [sent] = producer.sent
    assert sent["value"] == b"{bad" and "dlt.truncated" not in sent["headers"]
