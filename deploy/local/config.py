"""Where the local infrastructure lives and on which ports: ``CRM_LOCAL_DIR``,
``CRM_KAFKA_PORT``, ``CRM_PG_PORT``, ... (standard library only)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = DEPLOY_DIR.parent
KAFKA_POM = DEPLOY_DIR / "kafka" / "pom.xml"
KAFKA_LOG4J = DEPLOY_DIR / "kafka" / "log4j2.yaml"

DEFAULT_KAFKA_PORT = 19092
DEFAULT_KAFKA_CONTROLLER_PORT = 19093
DEFAULT_KAFKA_HEAP = "512m"
DEFAULT_PG_PORT = 55432
PG_USER = "crm"
PG_PASSWORD = "crm"
PG_DATABASE = "crm"
PG_EXTENSIONS = ("pg_trgm", "unaccent")
# OS account for the server when we run as root (PostgreSQL refuses to run as root).
PG_OS_USERS = ("postgres", "crm-postgres")

KAFKA_READY_TIMEOUT = 90.0
KAFKA_STOP_TIMEOUT = 30.0
PG_START_TIMEOUT = 60
KAFKA_STARTED_LINE = "Kafka Server started"
# Unix socket paths are limited to 108 bytes including the NUL (sun_path).
_MAX_SOCKET_PATH = 107
_LOG_ROTATE_BYTES = 50 * 1024 * 1024


class LauncherError(RuntimeError):
    """A failure with a message meant for the person running the launcher."""


@dataclass(frozen=True)
class Endpoints:
    """Where the application reaches the running infrastructure."""

    kafka_bootstrap: str
    database_url: str


def _default_local_dir() -> Path:
    return REPO_ROOT / ".local"


@dataclass(frozen=True)
class LocalConfig:
    """One launcher instance: its directory and ports. Two instances must not share either."""

    local_dir: Path = field(default_factory=_default_local_dir)
    kafka_port: int = DEFAULT_KAFKA_PORT
    kafka_controller_port: int = DEFAULT_KAFKA_CONTROLLER_PORT
    kafka_heap: str = DEFAULT_KAFKA_HEAP
    pg_port: int = DEFAULT_PG_PORT
    kafka_ready_timeout: float = KAFKA_READY_TIMEOUT

    def __post_init__(self) -> None:
        # Absolute paths: the broker and pg_ctl run with another working directory.
        object.__setattr__(self, "local_dir", Path(self.local_dir).expanduser().resolve())
        for name in ("kafka_port", "kafka_controller_port", "pg_port"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 < value < 65536:
                raise LauncherError(f"{name} must be a TCP port (1-65535), got {value!r}")
        ports = [self.kafka_port, self.kafka_controller_port, self.pg_port]
        if len(set(ports)) != len(ports):
            raise LauncherError(
                f"kafka_port, kafka_controller_port and pg_port must differ: {ports}"
            )
        if not re.fullmatch(r"[1-9][0-9]*[kKmMgG]?", self.kafka_heap):
            raise LauncherError(
                f"kafka_heap (CRM_KAFKA_HEAP) must look like 512m or 1g, got {self.kafka_heap!r}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LocalConfig:
        """Read ``CRM_LOCAL_DIR``, ``CRM_KAFKA_PORT``, ``CRM_KAFKA_CONTROLLER_PORT``,
        ``CRM_KAFKA_HEAP`` and ``CRM_PG_PORT``; unset or empty means the default."""
        source = os.environ if env is None else env

        def port(name: str, default: int) -> int:
            raw = source.get(name, "").strip()
            if not raw:
                return default
            try:
                return int(raw)
            except ValueError:
                raise LauncherError(f"{name} must be a TCP port number, got {raw!r}") from None

        local = source.get("CRM_LOCAL_DIR", "").strip()
        return cls(
            local_dir=Path(local) if local else _default_local_dir(),
            kafka_port=port("CRM_KAFKA_PORT", DEFAULT_KAFKA_PORT),
            kafka_controller_port=port("CRM_KAFKA_CONTROLLER_PORT", DEFAULT_KAFKA_CONTROLLER_PORT),
            kafka_heap=source.get("CRM_KAFKA_HEAP", "").strip() or DEFAULT_KAFKA_HEAP,
            pg_port=port("CRM_PG_PORT", DEFAULT_PG_PORT),
        )

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(
            kafka_bootstrap=f"127.0.0.1:{self.kafka_port}",
            database_url=(
                f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{self.pg_port}/{PG_DATABASE}"
            ),
        )

    @property
    def kafka_dir(self) -> Path:
        return self.local_dir / "kafka"

    @property
    def kafka_libs(self) -> Path:
        return self.kafka_dir / "libs"

    @property
    def kafka_data(self) -> Path:
        return self.kafka_dir / "data"

    @property
    def kafka_properties(self) -> Path:
        return self.kafka_dir / "server.properties"

    @property
    def logs_dir(self) -> Path:
        return self.local_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.local_dir / "run"

    @property
    def kafka_log(self) -> Path:
        return self.logs_dir / "kafka.log"

    @property
    def kafka_pid_file(self) -> Path:
        return self.run_dir / "kafka.pid"


def _resolve(config: LocalConfig | None) -> LocalConfig:
    return config if config is not None else LocalConfig.from_env()


MASTER_KEY_FILE = "master.key"


def ensure_master_key(local_dir: Path | None = None) -> str:
    """The local installation's master key (``CRM_MASTER_KEY`` for ``make run`` and the
    tests), made once beside the local database it guards and readable by its owner only.
    A deployment gives its own through the environment or a key provider instead."""
    import base64
    import secrets

    path = (local_dir or _default_local_dir()) / MASTER_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() + "\n")
    return path.read_text().strip()
