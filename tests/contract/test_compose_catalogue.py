"""docker-compose.yml runs exactly the service catalogue's processes, as the catalogue says."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.catalogue import CONTEXTS, all_processes
from tests.compose_helpers import app_services, compose, container_env, health_endpoint

PROCESSES = {p.name: p for p in all_processes()}


@pytest.fixture(scope="module")
def apps() -> dict[str, dict[str, Any]]:
    return app_services(compose())


def test_one_service_per_catalogue_process(apps: dict[str, dict[str, Any]]) -> None:
    assert sorted(apps) == sorted(PROCESSES)


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_each_service_runs_its_catalogue_command(
    apps: dict[str, dict[str, Any]], name: str
) -> None:
    assert apps[name]["command"] == ["python", "-m", *PROCESSES[name].module_args]


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_each_service_listens_where_its_healthcheck_asks_for_readiness(
    apps: dict[str, dict[str, Any]], name: str
) -> None:
    process = PROCESSES[name]
    port, path = health_endpoint(apps[name])
    assert container_env(apps[name]).get(process.port_setting) == str(port)
    assert path == process.readiness_path


@pytest.mark.parametrize("context", CONTEXTS, ids=[c.name for c in CONTEXTS])
def test_the_gateway_reaches_each_context_by_its_url_setting(
    apps: dict[str, dict[str, Any]], context: Any
) -> None:
    gateway = next(s for n, s in apps.items() if PROCESSES[n].kind == "gateway")
    api = context.api
    port, _ = health_endpoint(apps[api.name])
    assert container_env(gateway)[context.url_setting] == f"http://{api.name}:{port}"
    assert gateway["depends_on"][api.name] == {"condition": "service_healthy"}


def test_migrations_run_once_before_every_process() -> None:
    """Schema changes are a step of their own: a one-off `crm migrate` that every
    long-running process waits for (they never run DDL themselves)."""
    document = compose()
    migrate = document["services"]["migrate"]
    assert migrate["command"][-1] == "migrate" and str(migrate["restart"]) == "no"
    for name, service in app_services(document).items():
        assert service["depends_on"].get("migrate") == {
            "condition": "service_completed_successfully"
        }, name
