"""docker-compose.yml is valid Compose and offers the endpoints the local launcher offers."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs pinned
import pytest
import yaml  # type: ignore[import-untyped]  # no stubs pinned

from deploy.local.launcher import (
    DEFAULT_KAFKA_PORT,
    DEFAULT_PG_PORT,
    PG_DATABASE,
    PG_PASSWORD,
    PG_USER,
    LocalConfig,
    kafka_server_settings,
)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = ROOT / "deploy" / "compose-spec.schema.json"

# Formats the Compose schema names; jsonschema ignores unknown formats unless told.
_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_PORTS = re.compile(
    r"^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?"  # optional host IP
    r"(\d+(-\d+)?:)?"  # optional host port (range)
    r"\d+(-\d+)?(/(tcp|udp|sctp))?$"  # container port (range) and protocol
)
_EXPOSE = re.compile(r"^\d+(-\d+)?(/(tcp|udp|sctp))?$")


def _matches(pattern: re.Pattern[str]) -> Any:
    def check(value: object) -> bool:
        return not isinstance(value, str) or bool(pattern.match(value))

    return check


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker()
    checker.checks("duration")(_matches(_DURATION))
    checker.checks("ports")(_matches(_PORTS))
    checker.checks("expose")(_matches(_EXPOSE))
    return checker


def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=_format_checker())


def _errors(document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in _validator().iter_errors(document)
    ]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _host_ports(service: dict[str, Any]) -> dict[int, int]:
    """host port -> container port, from short-syntax port strings."""
    found: dict[int, int] = {}
    for entry in service.get("ports", []):
        parts = str(entry).split("/")[0].split(":")
        found[int(parts[-2])] = int(parts[-1])
    return found


def test_compose_file_matches_compose_spec(compose: dict[str, Any]) -> None:
    assert _errors(compose) == []


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param(lambda d: d.update(bogus_top_level=1), id="unknown-top-level-key"),
        pytest.param(
            lambda d: d["services"]["kafka"]["healthcheck"].update(intervall="5s"),
            id="misspelt-healthcheck-key",
        ),
        pytest.param(
            lambda d: d["services"]["postgres"]["healthcheck"].update(interval="5 seconds"),
            id="bad-duration",
        ),
        pytest.param(
            lambda d: d["services"]["kafka"].update(ports="19092:19092"), id="ports-not-a-list"
        ),
        pytest.param(
            lambda d: d["services"]["kafka"].update(ports=["localhost-19092"]), id="bad-port"
        ),
        pytest.param(lambda d: d["services"].update({"bad name!": {}}), id="bad-service-name"),
        pytest.param(
            lambda d: d["services"]["postgres"].update(environment=[1, 2]), id="bad-environment"
        ),
    ],
)
def test_schema_rejects_broken_compose_files(compose: dict[str, Any], breakage: Any) -> None:
    broken = copy.deepcopy(compose)
    breakage(broken)
    assert _errors(broken), "the schema check accepted a broken compose file"


def test_infrastructure_services_have_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("kafka", "postgres"):
        assert name in services, f"service {name!r} missing"
        check = services[name].get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name}: no healthcheck"
    kafka_check = " ".join(services["kafka"]["healthcheck"]["test"])
    assert "kafka-broker-api-versions.sh --bootstrap-server localhost:9092" in kafka_check
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_host_ports_match_launcher_defaults(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert DEFAULT_KAFKA_PORT in _host_ports(services["kafka"])
    assert _host_ports(services["postgres"]).get(DEFAULT_PG_PORT) == 5432
    kafka_env = services["kafka"]["environment"]
    # Host clients are told to come back to the mapped port, as with the launcher.
    assert f"127.0.0.1:{DEFAULT_KAFKA_PORT}" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    assert LocalConfig().endpoints.kafka_bootstrap == f"127.0.0.1:{DEFAULT_KAFKA_PORT}"


def test_postgres_credentials_match_launcher(compose: dict[str, Any]) -> None:
    env = compose["services"]["postgres"]["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_DB"]) == (
        PG_USER,
        PG_PASSWORD,
        PG_DATABASE,
    )
    assert LocalConfig().endpoints.database_url == (
        f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}"
        f"@127.0.0.1:{DEFAULT_PG_PORT}/{env['POSTGRES_DB']}"
    )
    for volume in compose["services"]["postgres"].get("volumes", []):
        source = str(volume).split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).is_file(), f"mounted file {source} is missing"


def test_kafka_settings_match_launcher(compose: dict[str, Any]) -> None:
    """Broker behaviour the services rely on is the same under Docker and the launcher."""
    env = compose["services"]["kafka"]["environment"]
    # Listener, quorum and path settings differ by design (container networking, volumes),
    # as do the launcher's restart-speed timeouts.
    differ = {
        "controller.quorum.bootstrap.servers",
        "listeners",
        "advertised.listeners",
        "listener.security.protocol.map",
        "log.dirs",
        "broker.session.timeout.ms",
        "broker.heartbeat.interval.ms",
    }
    for key, value in kafka_server_settings(LocalConfig()).items():
        if key in differ:
            continue
        env_name = "KAFKA_" + key.upper().replace(".", "_")
        assert str(env.get(env_name)) == value, f"{env_name} should be {value!r} as in the launcher"
    cluster_id = str(env["CLUSTER_ID"])
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16, "CLUSTER_ID must be a Kafka uuid"


def test_every_service_has_a_healthcheck_and_apps_wait_for_healthy_infrastructure() -> None:
    everything = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    # One-off tasks (the migration) finish instead of becoming healthy.
    services = {n: s for n, s in everything.items() if str(s.get("restart")) != "no"}
    assert set(everything) - set(services) == {"migrate"}
    assert everything["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name, service in services.items():
        assert "healthcheck" in service, name
    apps = {n: s for n, s in services.items() if n not in ("kafka", "postgres")}
    assert {"gateway", "sales-api", "sales-relay", "sales-scheduler", "timeline-projector",
            "customer360-projector"} <= set(apps)  # fmt: skip
    for name, service in apps.items():
        conditions = {dep: spec["condition"] for dep, spec in service["depends_on"].items()}
        infra = {k: v for k, v in conditions.items() if k in ("kafka", "postgres")}
        assert infra == {"kafka": "service_healthy", "postgres": "service_healthy"}, name
    # the front door opens once the service behind it answers
    assert services["gateway"]["depends_on"]["sales-api"]["condition"] == "service_healthy"
