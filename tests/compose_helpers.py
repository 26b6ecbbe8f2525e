"""docker-compose.yml and deploy/Dockerfile as data: the application services, and the
environment, user and working directory each process gets in its container."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no stubs pinned

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")
_HEALTH_URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/[\w/]*)")


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def app_services(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Services built from the CRM image that keep running: the catalogue's processes.
    One-off tasks (``restart: "no"``, such as a migration) are not."""
    return {
        name: service
        for name, service in document["services"].items()
        if (service.get("build") or {}).get("dockerfile") == "deploy/Dockerfile"
        and str(service.get("restart", "no")) != "no"
    }


def dockerfile() -> tuple[dict[str, str], str, str]:
    """The image's (ENV, USER, WORKDIR)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    user, workdir = "root", "/"
    for line in text.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(rest))  # type: ignore[misc]
        elif word == "USER":
            user = rest.strip()
        elif word == "WORKDIR":
            workdir = rest.strip()
    return env, user, workdir


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${NAME:-default}``, with ``variables`` as the shell's environment."""
    return _INTERPOLATION.sub(lambda m: variables.get(m.group(1)) or (m.group(2) or ""), value)


def container_env(
    service: dict[str, Any], variables: dict[str, str] | None = None
) -> dict[str, str]:
    """What the process sees: the image's ENV, then the service's environment."""
    image_env, _, _ = dockerfile()
    own = {
        k: interpolate(str(v), variables or {})
        for k, v in (service.get("environment") or {}).items()
    }
    return {**image_env, **own}


def health_endpoint(service: dict[str, Any]) -> tuple[int, str]:
    """(port, path) the service's healthcheck asks, inside its container."""
    found = _HEALTH_URL.search(" ".join(map(str, service["healthcheck"]["test"])))
    assert found, f"healthcheck without an http://127.0.0.1:<port>/<path> URL: {service}"
    return int(found.group(1)), found.group(2)
