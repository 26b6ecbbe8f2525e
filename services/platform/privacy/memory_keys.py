"""An in-memory key registry with the same surface as ``DataKeys``: for unit tests of
code that seals and opens events without PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from services.platform.privacy.data_keys import SubjectErased
from services.platform.privacy.master import KEY_BYTES


class InMemoryDataKeys:
    def __init__(self) -> None:
        self.keys: dict[str, bytes | None] = {}

    async def for_writing(
        self, subjects: Iterable[str], connection: object | None = None
    ) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for subject in subjects:
            key = self.keys.setdefault(subject, secrets.token_bytes(KEY_BYTES))
            if key is None:
                raise SubjectErased(subject)
            found[subject] = key
        return found

    async def for_reading(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        return {subject: self.keys.get(subject) for subject in subjects}

    def forget(self, subjects: Iterable[str]) -> None:
        """Nothing cached: every read sees the registry as it is."""

    def all_cached(self, subjects: Iterable[str]) -> bool:
        return True

    def confirm(self, conn: object) -> None:
        """Keys exist from creation on: nothing to confirm."""

    def discard(self, conn: object) -> None:
        """Nothing is rolled back in memory."""

    def destroy(self, subject: str) -> None:
        self.keys[subject] = None
