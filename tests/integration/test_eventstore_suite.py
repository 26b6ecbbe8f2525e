"""The PostgreSQL event store against the suite every event store passes (the in-memory one
runs it in tests/unit)."""

from __future__ import annotations

import pytest

from services.platform.eventstore import EventStore
from services.platform.privacy.data_keys import data_keys_from_environment
from services.platform.relay_main import EVENTSTORE_SQL
from tests.eventstore_suite import EventStoreSuite

pytestmark = pytest.mark.integration


class TestPostgresEventStore(EventStoreSuite):
    @pytest.fixture
    async def store(self, schema: str, pool_factory) -> EventStore:  # type: ignore[no-untyped-def]
        pool = await pool_factory(schema, EVENTSTORE_SQL)
        return EventStore(pool, "/crm/test", keys=data_keys_from_environment(pool))
