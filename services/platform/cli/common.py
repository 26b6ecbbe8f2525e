"""What every ``crm`` command shares: settings, one-line failures with exit codes, output.

Exit codes: 0 ok, 1 the infrastructure failed or did not answer (one line on stderr, no
traceback), 2 the request itself is wrong (unknown offset, unknown topic or schema, bad
arguments). Command groups outside the platform (``crm infra``, ``crm auth``) use these
helpers too, so every command fails the same way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import asyncpg
import typer
from aiokafka.errors import KafkaError

from services.platform.settings import Settings

T = TypeVar("T")


INFRA_ERRORS: tuple[type[BaseException], ...] = (
    KafkaError,
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


class CliError(Exception):
    """A failure with a message for the operator and the exit code to end with."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Context:
    """The global options; the environment's settings are read once, when first needed."""

    bootstrap_option: str | None = None
    database_url_option: str | None = None
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings()
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                fail(f"invalid CRM_* settings in the environment: {exc}", 2)
        return self._settings

    @property
    def bootstrap(self) -> str:
        return self.bootstrap_option or self.settings.kafka_bootstrap

    @property
    def database_url(self) -> str:
        return self.database_url_option or self.settings.database_url


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def run(coro: Coroutine[Any, Any, T], target: str) -> T:
    """Run one command's async work; map failures to a one-line message and exit code."""
    try:
        return asyncio.run(coro)
    except CliError as exc:
        fail(str(exc), exc.code)
    except INFRA_ERRORS as exc:
        name = type(exc).__name__
        detail = str(exc) or "no answer"
        # aiokafka's messages often start with the class name already.
        if not detail.startswith(name):
            detail = f"{name}: {detail}"
        fail(f"{target}: {detail}", 1)


def cli_context(ctx: typer.Context) -> Context:
    obj = ctx.find_object(Context)
    return obj if obj is not None else Context()


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    text_rows = [[("" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text_rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    for row in [list(headers), *text_rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
