"""A live timeline whose database fails under it says so and ends: the stream has begun
(200), so no 503 can be answered, and the client reconnects with Last-Event-ID."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import pytest

from services.gateway.reads import live_entries


class _RefusingPool:
    """A pool whose database went away: every acquire fails as asyncpg's does."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def acquire(self, timeout: float | None = None) -> Any:
        raise self.error


async def _never_disconnected() -> bool:
    return False


async def _all_visible(conn: Any, entries: list[Any]) -> list[Any]:
    return entries


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    ],
    ids=["refused", "starting-up", "closed"],
)
async def test_the_stream_says_unavailable_and_ends(error: BaseException) -> None:
    stream = live_entries(
        _RefusingPool(error),  # type: ignore[arg-type]
        "customer-1",
        (datetime.now(UTC), "", ""),
        _all_visible,
        _never_disconnected,
        asyncio.Event(),
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[0] == b"retry: 2000\n\n"  # the client's reconnection delay
    event, data = chunks[1].decode().strip().split("\n")
    assert event == "event: unavailable"
    assert orjson.loads(data.removeprefix("data: ")) == {"retry_after": 1}
    assert len(chunks) == 2
