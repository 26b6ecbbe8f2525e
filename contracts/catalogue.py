"""The service catalogue: every bounded context and projector, and how each runs.

One entry per context is all that plugs a context in: the gateway builds its routes,
role checks and OpenAPI document from each context's HTTP contract and forwards to the
context's URL; ``make run``, ``docker-compose.yml`` and the ``crm`` CLI start and check
the processes listed here. Nothing else names a context. No I/O here: paths are
resolved by the readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from contracts.topics import PRIVACY, SALES, SUPPORT

HTTP_CONTRACTS = Path(__file__).with_name("http")
"""Committed, versioned OpenAPI documents of each context's HTTP API."""

ProcessKind = Literal["gateway", "api", "relay", "worker", "projector"]


@dataclass(frozen=True)
class Process:
    """One long-running process: what to run, on which port, how to know it is ready."""

    name: str
    kind: ProcessKind
    module_args: tuple[str, ...]
    """Arguments after ``python -m``."""
    port: int
    """Its HTTP port: the API's, or the health/metrics endpoint's (``CRM_HTTP_PORT``)."""
    readiness_path: str = "/readyz"
    port_setting: str = "CRM_HTTP_PORT"
    """The environment variable the process reads its port from."""


@dataclass(frozen=True)
class Context:
    """A bounded context as the rest of the system sees it."""

    name: str
    source: str
    """CloudEvents ``source`` of its events (its consistency tokens name it)."""
    topic: str
    schema: str
    """Its PostgreSQL schema (event store and private state)."""
    url_setting: str
    """Environment variable the gateway reads the API's base URL from."""
    default_url: str
    http_contract: str
    """File name under ``contracts/http/``: the OpenAPI document of its API."""
    path_prefix: str = "/v1"
    """Where the gateway serves the contract's paths."""
    http_app: str = ""
    """``module:factory`` of the API's FastAPI app: ``make schemas`` generates the HTTP
    contract from it (a name, not an import: contracts import no service)."""
    processes: tuple[Process, ...] = field(default=())
    migrations: str = ""
    """Module whose ``async def migrate(database_url)`` brings its schema up to date."""

    @property
    def contract_file(self) -> Path:
        return HTTP_CONTRACTS / self.http_contract

    @property
    def api(self) -> Process | None:
        return next((p for p in self.processes if p.kind == "api"), None)


GATEWAY = Process(
    "gateway", "gateway", ("services.gateway",), 8100, port_setting="CRM_GATEWAY_PORT"
)

SALES_CONTEXT = Context(
    name="sales",
    source="/crm/sales",
    topic=SALES.name,
    schema="sales",
    url_setting="CRM_GATEWAY_SALES_URL",
    default_url="http://127.0.0.1:8101",
    http_contract="sales.v1.json",
    http_app="services.sales.entrypoints.http:create_app",
    migrations="services.sales.migrations",
    processes=(
        Process("sales-api", "api", ("services.sales", "api"), 8101, port_setting="CRM_SALES_PORT"),
        Process("sales-relay", "relay", ("services.sales", "relay"), 9101),
        Process("sales-scheduler", "worker", ("services.sales", "scheduler"), 9102),
    ),
)

PRIVACY_CONTEXT = Context(
    name="privacy",
    source="/crm/privacy",
    topic=PRIVACY.name,
    schema="privacy",
    url_setting="CRM_GATEWAY_PRIVACY_URL",
    default_url="http://127.0.0.1:8102",
    http_contract="privacy.v1.json",
    path_prefix="/v1/privacy",
    http_app="services.privacy.entrypoints.http:create_app",
    migrations="services.privacy.migrations",
    processes=(
        Process("privacy-api", "api", ("services.privacy", "api"), 8102,
                port_setting="CRM_PRIVACY_PORT"),
        Process("privacy-relay", "relay", ("services.privacy", "relay"), 9103),
    ),
)  # fmt: skip

SUPPORT_CONTEXT = Context(
    name="support",
    source="/crm/support",
    topic=SUPPORT.name,
    schema="support",
    url_setting="CRM_GATEWAY_SUPPORT_URL",
    default_url="http://127.0.0.1:8103",
    http_contract="support.v1.json",
    path_prefix="/v1/support",
    http_app="services.support.entrypoints.http:create_app",
    migrations="services.support.migrations",
    processes=(
        Process("support-api", "api", ("services.support", "api"), 8103,
                port_setting="CRM_SUPPORT_PORT"),
        Process("support-relay", "relay", ("services.support", "relay"), 9104),
        # Learns customers and orders, turns other systems' complaints into cases,
        # forgets erased subjects, and runs the SLA and reopen-period timers.
        Process("support-worker", "worker", ("services.support", "worker"), 9105),
        # The inbound mail listener (SMTP on CRM_SUPPORT_SMTP_PORT, 2525 by default).
        Process("support-mail", "worker", ("services.support", "mail"), 9106),
    ),
)  # fmt: skip

CONTEXTS: tuple[Context, ...] = (SALES_CONTEXT, PRIVACY_CONTEXT, SUPPORT_CONTEXT)

PROJECTORS: tuple[Process, ...] = (
    Process("timeline-projector", "projector", ("projections", "run", "timeline"), 9201),
    Process("customer360-projector", "projector", ("projections", "run", "customer360"), 9202),
)


PROJECTION_MIGRATIONS = "projections.migrations"
DATA_KEYS_MIGRATIONS = "services.platform.privacy.migrations"
"""The registry of data subjects' keys, which every context and projection uses."""


def migration_modules() -> tuple[str, ...]:
    """What ``crm migrate`` runs, in order: the key registry, each context's schema, then
    the projections."""
    return (
        DATA_KEYS_MIGRATIONS,
        *(c.migrations for c in CONTEXTS if c.migrations),
        PROJECTION_MIGRATIONS,
    )


@dataclass(frozen=True)
class CommandGroup:
    """A ``crm`` command group that lives with what it operates, outside the shared runtime."""

    name: str
    app: str
    """``module:attribute`` of its typer app; the CLI imports it by name, so the shared
    runtime never imports the gateway or the launcher."""


COMMAND_GROUPS: tuple[CommandGroup, ...] = (
    CommandGroup("infra", "deploy.local.cli:infra_app"),
    CommandGroup("auth", "services.gateway.cli:auth_app"),
    CommandGroup("privacy", "services.privacy.cli:privacy_app"),
)


def all_processes() -> tuple[Process, ...]:
    """Every process of the system, in start order: gateway, contexts, projectors."""
    return (GATEWAY, *(p for c in CONTEXTS for p in c.processes), *PROJECTORS)


def context(name: str) -> Context:
    for entry in CONTEXTS:
        if entry.name == name:
            return entry
    raise KeyError(f"no context {name!r} in the catalogue")
