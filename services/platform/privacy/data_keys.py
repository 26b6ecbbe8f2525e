"""The registry of data subjects' keys: created on a subject's first personal data,
kept wrapped by the master key in PostgreSQL, destroyed on erasure.

Keys are cached unwrapped for ``ttl`` seconds. A process that still holds a destroyed
key for that long may seal a new event with it: that event is as unreadable as the rest
(crypto-shredded), the cache only delays the refusal of new personal data for the
subject. Readers drop a subject at once when they see its erasure (``forget``).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Protocol

import asyncpg

from services.platform.db import Connection, check_schema_name
from services.platform.migrate import PLATFORM_MIGRATIONS, MigrationSet
from services.platform.privacy.master import KEY_BYTES, MasterKey, MasterKeyError, UnwrapFailed

DATA_KEYS = MigrationSet("privacy", PLATFORM_MIGRATIONS / "privacy")
DATA_KEYS_SCHEMA = "crm_privacy"
_CHECK_PLAIN = b"crm master key check v1"


class SubjectErased(Exception):
    """The subject's personal data was erased: nothing personal is sealed for it again."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"the personal data of {subject!r} was erased")
        self.subject = subject


class SubjectKeys(Protocol):
    """What sealing and opening need of a key registry."""

    async def for_writing(
        self, subjects: Iterable[str], connection: Connection | None = None
    ) -> dict[str, bytes]: ...

    async def for_reading(self, subjects: Iterable[str]) -> dict[str, bytes | None]: ...

    def forget(self, subjects: Iterable[str]) -> None: ...

    def confirm(self, conn: Connection) -> None: ...

    def discard(self, conn: Connection) -> None: ...

    def all_cached(self, subjects: Iterable[str]) -> bool: ...


class DataKeys:
    """Subjects' keys in ``schema`` (``crm_privacy``; tests and benchmarks use their own)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        master: MasterKey,
        schema: str = DATA_KEYS_SCHEMA,
        *,
        ttl: float = 30.0,
        max_cached: int = 200_000,
    ) -> None:
        self._pool = pool
        self._master = master
        self.schema = check_schema_name(schema)
        self.ttl = ttl
        self._max_cached = max_cached
        self._cache: dict[str, tuple[bytes | None, float]] = {}
        self._tentative: dict[int, dict[str, bytes | None]] = {}

    @classmethod
    async def open(
        cls, pool: asyncpg.Pool, master: MasterKey, schema: str = DATA_KEYS_SCHEMA
    ) -> DataKeys:
        """The registry, once the master key is known to be this database's."""
        keys = cls(pool, master, schema)
        await keys.check_master_key()
        return keys

    async def check_master_key(self) -> None:
        """Refuse a master key other than the one the database's keys are wrapped with."""
        table = f"{self.schema}.master_key_check"
        async with self._pool.acquire() as conn:
            stored = await conn.fetchval(f"SELECT check_value FROM {table} WHERE id = 1")
            if stored is None:
                wrapped = self._master.wrap(_CHECK_PLAIN, "master-key-check")
                await conn.execute(
                    f"INSERT INTO {table} (id, check_value) VALUES (1, $1) "
                    "ON CONFLICT (id) DO NOTHING",
                    wrapped,
                )
                stored = await conn.fetchval(f"SELECT check_value FROM {table} WHERE id = 1")
        try:
            ok = self._master.unwrap(bytes(stored), "master-key-check") == _CHECK_PLAIN
        except UnwrapFailed:
            ok = False
        if not ok:
            raise MasterKeyError(
                "the master key is not the one this database's data keys are wrapped with "
                f"({table}); start with the right CRM_MASTER_KEY"
            )

    def _cached(self, subject: str, now: float) -> tuple[bool, bytes | None]:
        hit = self._cache.get(subject)
        if hit is None or now - hit[1] > self.ttl:
            return False, None
        return True, hit[0]

    def _split_cached(
        self, subjects: Iterable[str], now: float
    ) -> tuple[dict[str, bytes | None], list[str]]:
        """(the subjects' keys the cache holds, the subjects it does not)."""
        found: dict[str, bytes | None] = {}
        missing: list[str] = []
        for subject in set(subjects):
            hit, key = self._cached(subject, now)
            if hit:
                found[subject] = key
            else:
                missing.append(subject)
        return found, missing

    def _remember(self, subject: str, key: bytes | None, now: float) -> None:
        if len(self._cache) >= self._max_cached:
            self._cache.clear()
        self._cache[subject] = (key, now)

    async def _load(self, conn: Connection, subjects: list[str]) -> dict[str, bytes | None]:
        rows = await conn.fetch(
            f"SELECT subject_id, wrapped_key FROM {self.schema}.data_keys "
            "WHERE subject_id = ANY($1::text[])",
            subjects,
        )
        return {r["subject_id"]: self._unwrap(r) for r in rows}

    async def for_reading(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        """Each subject's key; None for an erased subject (or one never given a key)."""
        now = time.monotonic()
        found, missing = self._split_cached(subjects, now)
        if missing:
            async with self._pool.acquire() as conn:
                loaded = await self._load(conn, missing)
            for subject in missing:
                key = loaded.get(subject)
                found[subject] = key
                if subject in loaded:  # an unknown subject may get a key any moment
                    self._remember(subject, key, now)
        return found

    async def for_writing(
        self, subjects: Iterable[str], connection: Connection | None = None
    ) -> dict[str, bytes]:
        """Each subject's key, created on first use; ``SubjectErased`` for an erased one.

        ``connection``: the caller's, in its transaction (a command appending events), so
        that a command never waits for a second connection of a pool it may have drained.
        A key created there exists only if that transaction commits: it is not cached, the
        next write reads it back (or another writer's) once committed."""
        now = time.monotonic()
        found, missing = self._split_cached(subjects, now)
        if missing:
            if connection is not None:
                await self._load_or_create(connection, missing, found, now, in_caller=True)
            else:
                async with self._pool.acquire() as conn:
                    await self._load_or_create(conn, missing, found, now, in_caller=False)
        erased = sorted(s for s, key in found.items() if key is None)
        if erased:
            raise SubjectErased(erased[0])
        return {s: key for s, key in found.items() if key is not None}

    async def _load_or_create(
        self,
        conn: Connection,
        missing: list[str],
        found: dict[str, bytes | None],
        now: float,
        *,
        in_caller: bool,
    ) -> None:
        # One round trip: insert a fresh key for each subject that has none, read back
        # the others' (a key a concurrent writer is inserting right now is not visible to
        # this statement's snapshot: read again, after its insert has waited for it).
        candidates = [self._master.wrap(secrets.token_bytes(KEY_BYTES), s) for s in missing]
        rows = await conn.fetch(
            f"WITH fresh AS (INSERT INTO {self.schema}.data_keys (subject_id, wrapped_key) "
            "SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT (subject_id) DO NOTHING "
            "RETURNING subject_id, wrapped_key) "
            "SELECT subject_id, wrapped_key, true AS created FROM fresh UNION ALL "
            f"SELECT subject_id, wrapped_key, false FROM {self.schema}.data_keys "
            "WHERE subject_id = ANY($1::text[])",
            missing,
            candidates,
        )
        loaded = {r["subject_id"]: self._unwrap(r) for r in rows}
        created = {r["subject_id"] for r in rows if r["created"]}
        late = [s for s in missing if s not in loaded]
        if late:
            loaded.update(await self._load(conn, late))
        for subject in missing:
            key = loaded[subject]
            if subject not in created:
                self._remember(subject, key, now)  # committed rows: safe to keep
            elif in_caller:
                # Exists once the caller's transaction commits: ``confirm`` keeps it then.
                self._tentative.setdefault(id(conn), {})[subject] = key
            else:
                self._remember(subject, key, now)
            found[subject] = key

    def _unwrap(self, row: asyncpg.Record) -> bytes | None:
        wrapped = row["wrapped_key"]
        return None if wrapped is None else self._master.unwrap(bytes(wrapped), row["subject_id"])

    def all_cached(self, subjects: Iterable[str]) -> bool:
        """Whether writing for these subjects needs no database round trip."""
        now = time.monotonic()
        return all(self._cached(s, now)[0] for s in subjects)

    def confirm(self, conn: Connection) -> None:
        """The transaction on ``conn`` committed: keep the keys it created."""
        now = time.monotonic()
        for subject, key in self._tentative.pop(id(conn), {}).items():
            self._remember(subject, key, now)

    def discard(self, conn: Connection) -> None:
        """The transaction on ``conn`` rolled back: the keys it created never existed."""
        self._tentative.pop(id(conn), None)

    def forget(self, subjects: Iterable[str]) -> None:
        for subject in subjects:
            self._cache.pop(subject, None)

    async def destroy(self, conn: Connection, subjects: Iterable[str]) -> list[str]:
        """Destroy the subjects' keys in the caller's transaction (a tombstone row for a
        subject that had none); the subjects whose key this call destroyed."""
        ids = sorted(set(subjects))
        rows = await conn.fetch(
            f"INSERT INTO {self.schema}.data_keys AS k (subject_id, wrapped_key, erased_at) "
            "SELECT s, NULL, now() FROM unnest($1::text[]) AS s "
            "ON CONFLICT (subject_id) DO UPDATE SET wrapped_key = NULL, erased_at = now() "
            "WHERE k.erased_at IS NULL RETURNING subject_id",
            ids,
        )
        self.forget(ids)
        return sorted(r["subject_id"] for r in rows)

    async def states(self, subjects: Iterable[str]) -> Mapping[str, str]:
        """``active``, ``erased`` or ``unknown`` for each subject, read now (no cache)."""
        ids = sorted(set(subjects))
        rows = await self._pool.fetch(
            f"SELECT subject_id, erased_at IS NOT NULL AS erased FROM {self.schema}.data_keys "
            "WHERE subject_id = ANY($1::text[])",
            ids,
        )
        known = {r["subject_id"]: "erased" if r["erased"] else "active" for r in rows}
        return {s: known.get(s, "unknown") for s in ids}


SCHEMA_SETTING = "CRM_DATA_KEYS_SCHEMA"
"""Where the registry lives: ``crm_privacy``; tests and benchmarks set their own."""


def data_keys_schema() -> str:
    return os.environ.get(SCHEMA_SETTING, DATA_KEYS_SCHEMA)


def data_keys_from_environment(pool: asyncpg.Pool) -> DataKeys:
    """The registry on ``pool`` with the environment's master key (already checked at
    the process's start by ``open_data_keys``); ``MasterKeyError`` without one."""
    from services.platform.privacy.master import master_key_from_environment

    return DataKeys(pool, master_key_from_environment(), data_keys_schema())


async def open_data_keys(pool: asyncpg.Pool) -> DataKeys:
    """What a process calls at start: the registry, its master key checked against the
    database; ``MasterKeyError`` (refuse to start) when it is missing or wrong."""
    keys = data_keys_from_environment(pool)
    await keys.check_master_key()
    return keys


async def verify_master_key(database_url: str) -> None:
    """At a process's start: the registry's schema is migrated (``SchemaNotMigrated``)
    and the environment's master key is the database's (``MasterKeyError``)."""
    from services.platform.migrate import require_migrated

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await require_migrated(conn, data_keys_schema(), (DATA_KEYS,))
        await open_data_keys(pool)
    finally:
        await pool.close()


async def record_erasure_done(
    conn: Connection, request_id: object, store: str, subject: str
) -> None:
    """Say, in the caller's transaction, that ``store`` has forgotten the subject."""
    await conn.execute(
        f"INSERT INTO {data_keys_schema()}.erasure_progress (request_id, store, subject_id) "
        "VALUES ($1, $2, $3) ON CONFLICT (request_id, store) DO NOTHING",
        request_id,
        store,
        subject,
    )
