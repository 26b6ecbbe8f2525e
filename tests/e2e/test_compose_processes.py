"""Each process of docker-compose.yml starts as its container would run it, and gets ready.

No Docker engine here, so each container is reproduced: the image's ENV and the service's
environment, the image's user (``nobody``), its working directory as a read-only copy of
the code (the image's /app), and its named volumes as directories owned by nobody. Only
what a container network changes is translated: ``kafka:9092`` and ``postgres:5432`` are
the shared test infrastructure, each service's port 8080 is a free port here and its
name is 127.0.0.1. Python is the machine's 3.11 with the project's installed packages
(the image's ``pip install .``): the test venv's interpreter lives under /root, which
nobody may not enter. Like the other end-to-end tests, the processes use their own
schemas and topics on the shared infrastructure, as a compose stack would.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.checkout import copy_code
from tests.compose_helpers import app_services, compose, container_env, dockerfile, health_endpoint
from tests.gateway_stack import free_port

pytestmark = pytest.mark.e2e

SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
SITE_PACKAGES = next(p for p in sys.path if p.endswith("site-packages") and sys.prefix in p)
READY_WITHIN = 60.0  # a bound to give up, not a measurement


@dataclass
class Container:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    readiness: str
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])


def _read_only(tree: Path) -> None:
    for path in [tree, *tree.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(stat.S_IMODE(mode) & ~0o222 | (0o555 if path.is_dir() else 0o444))


def _translate(value: str, ports: dict[str, int], mounts: dict[str, Path], infra: Any) -> str:
    """What a value means outside the container network."""
    if value == "kafka:9092":
        return str(infra.kafka_bootstrap)
    if "@postgres:5432/" in value:
        return str(infra.database_url)
    if value == "0.0.0.0":
        return "127.0.0.1"  # the container's own interface, not this shared machine's
    for target, host in mounts.items():
        if value == target or value.startswith(target + "/"):
            return str(host) + value[len(target) :]
    for name, port in ports.items():
        value = re.sub(rf"^http://{re.escape(name)}:8080\b", f"http://127.0.0.1:{port}", value)
    return value


@pytest.fixture
def image_root() -> Iterator[Path]:
    # Not pytest's tmp_path: it sits under a directory nobody may not enter.
    root = Path(tempfile.mkdtemp(prefix="crm-compose-", dir="/tmp"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _containers(root: Path, infra: Any) -> list[Container]:
    services = app_services(compose())
    _, user, _ = dockerfile()
    nobody = pwd.getpwnam(user)
    ports = {name: free_port() for name in services}
    containers = []
    for name, service in services.items():
        mounts: dict[str, Path] = {}
        for volume in service.get("volumes", []):
            source, target = str(volume).split(":")[:2]
            host = root / "volumes" / source
            host.mkdir(parents=True, exist_ok=True)
            os.chown(host, nobody.pw_uid, nobody.pw_gid)  # as a new named volume would be
            mounts[target] = host
        env = {
            # the container's own port 8080 is a free port here
            key: str(ports[name]) if value == "8080" else _translate(value, ports, mounts, infra)
            for key, value in container_env(
                service, {"CRM_MASTER_KEY": os.environ["CRM_MASTER_KEY"]}
            ).items()
        }
        env.update(
            PATH="/usr/local/bin:/usr/bin:/bin", HOME=nobody.pw_dir, LANG="C.UTF-8",
            PYTHONPATH=SITE_PACKAGES,
        )  # fmt: skip
        command = [str(part) for part in service["command"]]
        assert command[0] == "python", command
        container_port, path = health_endpoint(service)
        assert container_port == 8080, f"{name}: the translation above assumes port 8080"
        containers.append(
            Container(name, [str(SYSTEM_PYTHON), *command[1:]], env, ports[name], path,
                      root / "logs" / f"{name}.log")
        )  # fmt: skip
    return containers


def _ready(container: Container) -> bool:
    try:
        url = f"http://127.0.0.1:{container.port}{container.readiness}"
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def _running(containers: list[Container], workdir: Path, user: str) -> Iterator[None]:
    try:
        for container in containers:
            container.log.parent.mkdir(exist_ok=True)
            with container.log.open("wb") as log:
                container.process = subprocess.Popen(
                    container.argv, env=container.env, cwd=workdir, user=user,
                    group=pwd.getpwnam(user).pw_gid, extra_groups=[],
                    stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
        yield
    finally:
        for container in containers:
            if container.process and container.process.poll() is None:
                container.process.send_signal(signal.SIGTERM)
        for container in containers:
            if container.process:
                try:
                    container.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    container.process.kill()
                    container.process.wait()


# Elsewhere a machine without that interpreter skips; in CI it must have it, so it fails.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.mark.skipif(
    not SYSTEM_PYTHON.exists() and not IN_CI, reason=f"needs {SYSTEM_PYTHON} to run as nobody"
)
def test_every_compose_process_gets_ready_as_nobody_in_a_read_only_image(
    infra: Any, image_root: Path
) -> None:
    _, user, workdir = dockerfile()
    assert workdir == "/app" and user == "nobody"
    app = copy_code(image_root / "app")  # COPY pyproject.toml constraints.txt <packages>
    _read_only(app)
    containers = _containers(image_root, infra)

    with _running(containers, app, user):
        waiting = {c.name: c for c in containers}
        deadline = time.monotonic() + READY_WITHIN
        while waiting and time.monotonic() < deadline:
            for name, container in list(waiting.items()):
                assert container.process is not None
                if container.process.poll() is not None:
                    pytest.fail(
                        f"{name} exited ({container.process.returncode}):\n{container.tail()}"
                    )
                if _ready(container):
                    del waiting[name]
            time.sleep(0.2)  # poll interval between readiness probes, not a wait for an event
        not_ready = {name: c.tail() for name, c in waiting.items()}
        assert not not_ready, f"not ready: {sorted(not_ready)}\n" + "\n".join(
            f"--- {name}\n{tail}" for name, tail in not_ready.items()
        )

    # The gateway made its key ring in its volume, and the image stayed as it was.
    assert (image_root / "volumes" / "gateway-keys" / "gateway" / "keys.json").is_file()
    assert not (app / ".local").exists()
