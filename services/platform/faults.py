"""Which failures are the infrastructure's, not the request's: answered 503 with
``Retry-After`` by the APIs, retried (never dead-lettered) by the consumers."""

from __future__ import annotations

import asyncpg

DATABASE_UNREACHABLE: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, unreachable
    TimeoutError,  # no pooled connection freed up in time, or no answer
    asyncpg.InterfaceError,  # the connection is closed, or in a state it cannot leave
    asyncpg.InternalClientError,  # "cannot switch to state …": a broken connection
    asyncpg.PostgresConnectionError,  # class 08: connection failure, lost mid-operation
    asyncpg.OperatorInterventionError,  # class 57: shutting down, starting up, cancelled
    asyncpg.InsufficientResourcesError,  # class 53: too many connections, out of memory
)
"""The database is down, restarting, or dropped the connection."""

CONTENTION: tuple[type[Exception], ...] = (
    asyncpg.DeadlockDetectedError,  # 40P01
    asyncpg.SerializationError,  # 40001
)
"""Transactions got in each other's way: the same work, tried again, succeeds."""

RETRY_AFTER_SECONDS = 1


class DatabaseUnavailable(Exception):
    """A command could not finish because of the database, not of what it asked.

    ``outcome_unknown``: the connection was lost while committing, so the change may or
    may not have been applied; only a retry with the same idempotency key can tell.
    """

    def __init__(self, cause: BaseException, *, outcome_unknown: bool) -> None:
        super().__init__(repr(cause))
        self.outcome_unknown = outcome_unknown
