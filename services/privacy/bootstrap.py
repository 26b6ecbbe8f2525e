"""The privacy service's composition root: the environment is read here, once.

``bootstrap(pool)`` for ``__main__`` and the CLI; a test passes its own ``read_models``
(throwaway reader schemas), ``keys`` or ``clock``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import asyncpg

from services.platform.commands import CommandHandler
from services.platform.eventstore import EventStore
from services.platform.privacy.data_keys import DataKeys, data_keys_from_environment
from services.privacy.application.runtime import SOURCE, PrivacyRuntime, ReadModels, utc_now


def bootstrap(
    pool: asyncpg.Pool,
    *,
    keys: DataKeys | None = None,
    read_models: ReadModels | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> PrivacyRuntime:
    keys = keys or data_keys_from_environment(pool)
    store = EventStore(pool, SOURCE, keys=keys)
    return PrivacyRuntime(
        pool=pool,
        store=store,
        keys=keys,
        commands=CommandHandler(store, pool),
        read_models=read_models or ReadModels(),
        clock=clock,
    )
