"""Run a real Kafka broker and PostgreSQL server on this machine, without Docker.

Kafka runs from jars fetched from Maven Central (``deploy/kafka/pom.xml``) on the
machine's JDK, as a single KRaft node; PostgreSQL runs from the machine's server
binaries. Everything lives under ``CRM_LOCAL_DIR`` (default ``<repo>/.local``).
Only the standard library is used so this works before the project is installed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_KAFKA_CONTROLLER_PORT",
    "DEFAULT_KAFKA_HEAP",
    "DEFAULT_KAFKA_PORT",
    "DEFAULT_PG_PORT",
    "PG_DATABASE",
    "PG_PASSWORD",
    "PG_USER",
    "Endpoints",
    "LauncherError",
    "LocalConfig",
    "down",
    "ensure_up",
    "kafka_server_settings",
    "start_kafka",
    "start_postgres",
    "status",
    "stop_kafka",
    "stop_postgres",
]

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


# --------------------------------------------------------------------------- public API


def ensure_up(config: LocalConfig | None = None) -> Endpoints:
    """Start whatever of Kafka and PostgreSQL is not running and wait until both are ready."""
    cfg = _resolve(config)
    with _lock(cfg):
        # The broker boots in the background while PostgreSQL starts: saves a few seconds.
        launched = _launch_kafka(cfg)
        _start_postgres(cfg)
        _wait_kafka_ready(cfg, *launched)
    return cfg.endpoints


def down(config: LocalConfig | None = None) -> None:
    """Stop Kafka and PostgreSQL if they run; data stays for the next ``ensure_up``."""
    cfg = _resolve(config)
    with _lock(cfg):
        _stop_kafka(cfg, hard=False)
        _stop_postgres(cfg)


def start_kafka(config: LocalConfig | None = None) -> None:
    """Start the broker unless it runs, then wait until it answers requests."""
    cfg = _resolve(config)
    with _lock(cfg):
        _wait_kafka_ready(cfg, *_launch_kafka(cfg))


def stop_kafka(config: LocalConfig | None = None, hard: bool = False) -> None:
    """Stop the broker: SIGTERM (controlled shutdown), or SIGKILL at once when ``hard``."""
    cfg = _resolve(config)
    with _lock(cfg):
        _stop_kafka(cfg, hard=hard)


def start_postgres(config: LocalConfig | None = None) -> None:
    """Start PostgreSQL unless it runs; make sure the database and extensions exist."""
    cfg = _resolve(config)
    with _lock(cfg):
        _start_postgres(cfg)


def stop_postgres(config: LocalConfig | None = None) -> None:
    """Stop PostgreSQL (fast mode) if it runs."""
    cfg = _resolve(config)
    with _lock(cfg):
        _stop_postgres(cfg)


def status(config: LocalConfig | None = None) -> dict[str, dict[str, Any]]:
    """Report each component: running, healthy, pid, port, log path and data paths."""
    cfg = _resolve(config)
    kafka_pid = _kafka_pid(cfg)
    kafka: dict[str, Any] = {
        "running": kafka_pid is not None,
        "healthy": kafka_pid is not None and _kafka_answers(cfg.kafka_port),
        "pid": kafka_pid,
        "port": cfg.kafka_port,
        "controller_port": cfg.kafka_controller_port,
        "bootstrap": cfg.endpoints.kafka_bootstrap,
        "log": str(cfg.kafka_log),
        "data_dir": str(cfg.kafka_data),
    }
    layout = _pg_layout(cfg, create_user=False)
    pg_pid = _pg_pid(layout.data_dir)
    postgres: dict[str, Any] = {
        "running": pg_pid is not None,
        "healthy": pg_pid is not None and _pg_answers(cfg, layout),
        "pid": pg_pid,
        "port": cfg.pg_port,
        "url": cfg.endpoints.database_url,
        "log": str(layout.log_file),
        "data_dir": str(layout.data_dir),
        "socket_dir": str(layout.socket_dir),
        "note": layout.note,
    }
    return {"kafka": kafka, "postgres": postgres}


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _lock(cfg: LocalConfig) -> Iterator[None]:
    """Serialise launcher calls on one local dir (parallel test workers, two terminals)."""
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    with open(cfg.run_dir / "launcher.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        # Reap it if it is our own child, otherwise a dead broker lingers as a zombie.
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # Orphans re-parented to an init that does not reap stay as zombies: treat them as gone.
    return stat_line.rpartition(")")[2].split()[0] != "Z"


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _cmdline(pid: int) -> str | None:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return None


def _port_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _require_port_free(port: int, what: str, env_name: str) -> None:
    if _port_open(port):
        raise LauncherError(
            f"port {port} for {what} is already in use by another process "
            f"(docker compose?); stop it or set {env_name}"
        )


def _tail(text: str, lines: int = 3) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


def _rotate(log: Path) -> None:
    with contextlib.suppress(OSError):
        if log.stat().st_size > _LOG_ROTATE_BYTES:
            log.replace(log.with_name(log.name + ".1"))


def _spawn_detached(cmd: Sequence[str], log: Path) -> int:
    """Start ``cmd`` in its own session, output appended to ``log``; return its pid.

    A throw-away shell backgrounds the command and exits, so the process is not our
    child: it outlives this Python process, Ctrl-C in the parent terminal does not reach
    it, and no ``Popen`` object is left to warn at garbage collection.
    """
    script = 'log=$1; shift; "$@" </dev/null >>"$log" 2>&1 & echo $!'
    done = subprocess.run(
        ["/bin/sh", "-c", script, "sh", str(log), *cmd],
        capture_output=True,
        text=True,
        start_new_session=True,
        cwd="/",
        timeout=30,
        check=False,
    )
    try:
        return int(done.stdout.strip())
    except ValueError:
        raise LauncherError(f"could not start {cmd[0]}: {_tail(done.stderr) or 'no pid'}") from None


# --------------------------------------------------------------------------- Kafka


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        java = str(Path(java_home) / "bin" / "java")
    else:
        found = shutil.which("java")
        if found is None:
            raise LauncherError(
                "java not found: install a JDK 17+ (apt-get install openjdk-17-jre-headless)"
            )
        java = found
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if match:
        major = int(match.group(1))
        if major == 1 and match.group(2):  # "1.8.0" style
            major = int(match.group(2))
        if major < 17:
            raise LauncherError(f"{java} is Java {major}; Kafka 4 needs a JDK 17+")
    return java


def _ensure_kafka_libs(cfg: LocalConfig) -> None:
    """Fetch the broker jars with Maven unless the same pom was fetched already."""
    marker = cfg.kafka_libs / ".fetched"
    pom_hash = hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest()
    if marker.is_file() and marker.read_text().strip() == pom_hash:
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LauncherError("mvn not found: install Maven 3 (apt-get install maven) to fetch Kafka")
    shutil.rmtree(cfg.kafka_libs, ignore_errors=True)
    cfg.logs_dir.mkdir(parents=True, exist_ok=True)
    mvn_log = cfg.logs_dir / "mvn.log"
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(KAFKA_POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={cfg.kafka_libs}",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        raise LauncherError("mvn did not fetch the Kafka jars within 15 minutes") from None
    mvn_log.write_text(done.stdout + done.stderr)
    if done.returncode != 0 or not any(cfg.kafka_libs.glob("kafka_2.13-*.jar")):
        raise LauncherError(
            f"mvn could not fetch the Kafka jars (exit {done.returncode}); see {mvn_log}"
        )
    marker.write_text(pom_hash + "\n")


def kafka_server_settings(config: LocalConfig | None = None) -> dict[str, str]:
    """The broker's server.properties as a dict (docker-compose.yml mirrors these)."""
    cfg = _resolve(config)
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        # bootstrap.servers, not quorum.voters: Kafka 4.4 refuses voters with --standalone.
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{cfg.kafka_controller_port}",
        "listeners": (
            f"PLAINTEXT://127.0.0.1:{cfg.kafka_port},CONTROLLER://127.0.0.1:{cfg.kafka_controller_port}"
        ),
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{cfg.kafka_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(cfg.kafka_data),
        "num.partitions": "3",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "min.insync.replicas": "1",
        "default.replication.factor": "1",
        # After a SIGKILL the restarted broker may only register once the controller has
        # expired its previous session: 5 s instead of the default 9 s speeds restart tests.
        "broker.session.timeout.ms": "5000",
        "broker.heartbeat.interval.ms": "1000",
    }


def _kafka_properties_text(cfg: LocalConfig) -> str:
    lines = ["# Generated by deploy/local/launcher.py on every start; edits are lost."]
    lines += [f"{key}={value}" for key, value in kafka_server_settings(cfg).items()]
    return "\n".join(lines) + "\n"


def _kafka_uuid() -> str:
    """A cluster id as ``kafka-storage random-uuid`` makes it, without starting a JVM."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka avoids ids that look like a CLI flag
            return text


def _format_kafka(cfg: LocalConfig, java: str) -> None:
    """Format the KRaft storage once; the voter set written there holds the controller port."""
    record = cfg.kafka_dir / "format.json"
    if (cfg.kafka_data / "meta.properties").is_file():
        with contextlib.suppress(OSError, ValueError):
            formatted_port = json.loads(record.read_text())["controller_port"]
            if formatted_port != cfg.kafka_controller_port:
                raise LauncherError(
                    f"{cfg.kafka_data} was formatted for controller port {formatted_port}, "
                    f"not {cfg.kafka_controller_port}; delete that directory to start afresh"
                )
        return
    cfg.kafka_data.mkdir(parents=True, exist_ok=True)
    cluster_id = _kafka_uuid()
    done = subprocess.run(
        [
            java,
            "-cp",
            f"{cfg.kafka_libs}/*",
            f"-Dlog4j2.configurationFile={KAFKA_LOG4J}",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(cfg.kafka_properties),
            "--standalone",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise LauncherError(
            f"formatting Kafka storage failed (exit {done.returncode}): "
            f"{_tail(done.stdout + done.stderr)}"
        )
    record.write_text(
        json.dumps({"cluster_id": cluster_id, "controller_port": cfg.kafka_controller_port}) + "\n"
    )


def _kafka_pid(cfg: LocalConfig) -> int | None:
    """The pid of this instance's broker, or None; a stale pid file is removed."""
    pid = _read_pid(cfg.kafka_pid_file)
    if pid is None:
        return None
    if _pid_alive(pid):
        cmdline = _cmdline(pid)
        # Guard against pid reuse: it must be a broker started with this instance's config.
        if cmdline is None or ("kafka.Kafka" in cmdline and str(cfg.kafka_properties) in cmdline):
            return pid
    with contextlib.suppress(FileNotFoundError):
        cfg.kafka_pid_file.unlink()
    return None


def _kafka_answers(port: int, timeout: float = 2.0) -> bool:
    """Send a raw ApiVersions (v0) request; True when the broker answers without error."""
    correlation = 0x43524D  # arbitrary, checked in the answer
    client = b"crm-local-launcher"
    body = struct.pack(">hhih", 18, 0, correlation, len(client)) + client
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(struct.pack(">i", len(body)) + body)
            head = _recv_exact(conn, 4)
            (size,) = struct.unpack(">i", head)
            if not 6 <= size <= 1_000_000:
                return False
            answer = _recv_exact(conn, size)
    except OSError:
        return False
    got_correlation, error_code = struct.unpack(">ih", answer[:6])
    return bool(got_correlation == correlation and error_code == 0)


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = conn.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed")
        chunks += chunk
    return bytes(chunks)


def _launch_kafka(cfg: LocalConfig) -> tuple[int, int | None]:
    """Start the broker if needed without waiting. Returns (pid, log offset of this start),
    the offset None when it was already running."""
    running = _kafka_pid(cfg)
    if running is not None:
        return running, None
    java = _java()
    _require_port_free(cfg.kafka_port, "Kafka", "CRM_KAFKA_PORT")
    _require_port_free(
        cfg.kafka_controller_port, "the Kafka controller", "CRM_KAFKA_CONTROLLER_PORT"
    )
    for directory in (cfg.kafka_dir, cfg.logs_dir, cfg.run_dir):
        directory.mkdir(parents=True, exist_ok=True)
    _ensure_kafka_libs(cfg)
    cfg.kafka_properties.write_text(_kafka_properties_text(cfg))
    _format_kafka(cfg, java)
    _rotate(cfg.kafka_log)
    with open(cfg.kafka_log, "a") as log:
        log.write(f"\n===== deploy.local starting Kafka at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        offset = log.tell()
    command = [
        java,
        f"-Xms{cfg.kafka_heap}",
        f"-Xmx{cfg.kafka_heap}",
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={KAFKA_LOG4J}",
        "-cp",
        f"{cfg.kafka_libs}/*",
        "kafka.Kafka",
        str(cfg.kafka_properties),
    ]
    pid = _spawn_detached(command, cfg.kafka_log)
    cfg.kafka_pid_file.write_text(f"{pid}\n")
    return pid, offset


def _log_since(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def _wait_kafka_ready(cfg: LocalConfig, pid: int, offset: int | None) -> None:
    deadline = time.monotonic() + cfg.kafka_ready_timeout
    while True:
        if not _pid_alive(pid):
            with contextlib.suppress(FileNotFoundError):
                cfg.kafka_pid_file.unlink()
            errors = [
                line
                for line in _log_since(cfg.kafka_log, offset or 0).splitlines()
                if " ERROR " in line
            ]
            hint = f" ({errors[-1].strip()[:300]})" if errors else ""
            raise LauncherError(f"Kafka exited during startup{hint}; see {cfg.kafka_log}")
        # The log line marks the end of broker startup (listeners open, broker unfenced);
        # ApiVersions proves the socket answers. A broker found running needs only the latter.
        started = offset is None or KAFKA_STARTED_LINE in _log_since(cfg.kafka_log, offset)
        if started and _kafka_answers(cfg.kafka_port):
            return
        if time.monotonic() > deadline:
            _stop_kafka(cfg, hard=True)
            raise LauncherError(
                f"Kafka did not become ready within {cfg.kafka_ready_timeout:.0f}s "
                f"(stopped it); see {cfg.kafka_log}"
            )
        time.sleep(0.2)


def _stop_kafka(cfg: LocalConfig, hard: bool) -> None:
    pid = _kafka_pid(cfg)
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL if hard else signal.SIGTERM)
    if not _wait_gone(pid, 10.0 if hard else KAFKA_STOP_TIMEOUT):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if not _wait_gone(pid, 10.0):
            raise LauncherError(f"Kafka (pid {pid}) did not exit even after SIGKILL")
    with contextlib.suppress(FileNotFoundError):
        cfg.kafka_pid_file.unlink()


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


# --------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class _PgLayout:
    os_user: str | None  # account that runs the server; None: the current user
    data_dir: Path
    socket_dir: Path
    log_file: Path
    note: str  # why a path is outside the local dir, or ""


def _pg_bindir() -> Path:
    candidates: list[Path] = []
    override = os.environ.get("CRM_PG_BINDIR", "").strip()
    if override:
        candidates.append(Path(override))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
            )
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for candidate in candidates:
        if all((candidate / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return candidate
    raise LauncherError("PostgreSQL server binaries not found: apt-get install postgresql")


def _pg_os_user(create: bool) -> str | None:
    """None when not root (the server runs as us); else an unprivileged account."""
    if os.geteuid() != 0:
        return None
    for name in PG_OS_USERS:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    name = PG_OS_USERS[-1]
    if not create:
        return name
    useradd = shutil.which("useradd")
    if useradd is None:
        raise LauncherError(
            f"running as root and no '{PG_OS_USERS[0]}' account: create a user '{name}' "
            "(PostgreSQL refuses to run as root)"
        )
    done = subprocess.run(
        [
            useradd,
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise LauncherError(f"could not create the system user '{name}': {_tail(done.stderr)}")
    return name


def _as_user(os_user: str | None) -> dict[str, Any]:
    """subprocess keyword arguments that run a command as ``os_user`` (stdlib, no runuser)."""
    if os_user is None:
        return {}
    entry = pwd.getpwnam(os_user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _chown(path: Path, os_user: str | None) -> None:
    if os_user is None:
        return
    entry = pwd.getpwnam(os_user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _user_can_traverse(path: Path, os_user: str | None) -> bool:
    if os_user is None:
        return True
    probe = path
    while not probe.exists():  # the local dir may not exist yet: test its nearest ancestor
        probe = probe.parent
    done = subprocess.run(
        ["/bin/sh", "-c", 'test -x "$1"', "sh", str(probe)],
        cwd="/",
        capture_output=True,
        check=False,
        **_as_user(os_user),
    )
    return done.returncode == 0


def _pg_layout(cfg: LocalConfig, create_user: bool) -> _PgLayout:
    os_user = _pg_os_user(create=create_user)
    known_user = os_user is None or _user_exists(os_user)
    fallback = Path("/tmp") / (
        "crm-pg-" + hashlib.sha256(str(cfg.local_dir).encode()).hexdigest()[:12]
    )
    socket_file = f".s.PGSQL.{cfg.pg_port}"
    if known_user and not _user_can_traverse(cfg.local_dir, os_user):
        return _PgLayout(
            os_user=os_user,
            data_dir=fallback / "pgdata",
            socket_dir=fallback,
            log_file=fallback / "postgres.log",
            note=(
                f"PostgreSQL files are in {fallback} because OS user '{os_user}' "
                f"cannot enter {cfg.local_dir}"
            ),
        )
    socket_dir, note = cfg.run_dir, ""
    if len(f"{socket_dir}/{socket_file}") > _MAX_SOCKET_PATH:
        socket_dir = fallback
        note = f"socket in {fallback}: {cfg.run_dir} is too long for a unix socket path"
    return _PgLayout(
        os_user=os_user,
        data_dir=cfg.local_dir / "pgdata",
        socket_dir=socket_dir,
        log_file=cfg.logs_dir / "postgres.log",
        note=note,
    )


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _pg_pid(data_dir: Path) -> int | None:
    pid = _read_pid(data_dir / "postmaster.pid")
    return pid if pid is not None and _pid_alive(pid) else None


def _pg_env() -> dict[str, str]:
    # A developer's PGHOST/PGPASSWORD/PGOPTIONS must not redirect the launcher's clients.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _pg_answers(cfg: LocalConfig, layout: _PgLayout) -> bool:
    """True when the server takes a password login over TCP with the app's URL."""
    try:
        bindir = _pg_bindir()
    except LauncherError:
        return _port_open(cfg.pg_port)
    done = subprocess.run(
        [
            str(bindir / "psql"),
            "-X",
            "-q",
            "-tA",
            "-d",
            cfg.endpoints.database_url,
            "-c",
            "SELECT 1",
        ],
        capture_output=True,
        text=True,
        env=_pg_env(),
        timeout=30,
        check=False,
    )
    return done.returncode == 0 and done.stdout.strip() == "1"


def _prepare_dir(path: Path, os_user: str | None, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    _chown(path, os_user)
    path.chmod(mode)


def _initdb(bindir: Path, layout: _PgLayout) -> None:
    data = layout.data_dir
    if (data / "PG_VERSION").is_file():
        return
    _prepare_dir(data, layout.os_user, stat.S_IRWXU)
    if any(data.iterdir()):
        raise LauncherError(f"{data} is not empty and not a PostgreSQL data directory; remove it")
    handle, pwfile_name = tempfile.mkstemp(prefix="crm-pw-")
    pwfile = Path(pwfile_name)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(PG_PASSWORD + "\n")
        _chown(pwfile, layout.os_user)
        base = [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            PG_USER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
        ]
        output = ""
        for locale in ("--locale=C.UTF-8", "--no-locale"):
            done = subprocess.run(
                [*base, locale],
                capture_output=True,
                text=True,
                cwd="/",
                env=_pg_env(),
                timeout=300,
                check=False,
                **_as_user(layout.os_user),
            )
            if done.returncode == 0:
                return
            output = done.stdout + done.stderr
            # initdb leaves the (pre-created) directory behind; empty it for the next try.
            for child in data.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        raise LauncherError(f"initdb failed: {_tail(output)}")
    finally:
        pwfile.unlink(missing_ok=True)


def _write_pg_config(cfg: LocalConfig, layout: _PgLayout) -> None:
    conf = layout.data_dir / "crm_local.conf"
    conf.write_text(
        "# Generated by deploy/local/launcher.py on every start; edits are lost.\n"
        "listen_addresses = '127.0.0.1'\n"
        f"port = {cfg.pg_port}\n"
        f"unix_socket_directories = '{layout.socket_dir}'\n"
        "max_connections = 200\n"
        "shared_buffers = 256MB\n"
        # Lets the end-to-end benchmark measure commit-to-commit latency exactly.
        "track_commit_timestamp = on\n"
    )
    _chown(conf, layout.os_user)
    main_conf = layout.data_dir / "postgresql.conf"
    include = "include_if_exists = 'crm_local.conf'"
    text = main_conf.read_text()
    if include not in text:
        main_conf.write_text(text.rstrip("\n") + f"\n\n# Added by deploy/local\n{include}\n")


def _psql(bindir: Path, cfg: LocalConfig, layout: _PgLayout, database: str, sql: str) -> str:
    """Run SQL over the unix socket (trust auth there) and return its unaligned output."""
    done = subprocess.run(
        [
            str(bindir / "psql"),
            "-X",
            "-q",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(layout.socket_dir),
            "-p",
            str(cfg.pg_port),
            "-U",
            PG_USER,
            "-d",
            database,
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        env=_pg_env(),
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise LauncherError(f"psql failed on {sql!r}: {_tail(done.stderr)}")
    return done.stdout.strip()


def _ensure_database(bindir: Path, cfg: LocalConfig, layout: _PgLayout) -> None:
    exists = _psql(
        bindir,
        cfg,
        layout,
        "postgres",
        f"SELECT 1 FROM pg_database WHERE datname = '{PG_DATABASE}'",
    )
    if exists != "1":
        _psql(bindir, cfg, layout, "postgres", f'CREATE DATABASE "{PG_DATABASE}"')
    names = ", ".join(f"'{name}'" for name in PG_EXTENSIONS)
    available = _psql(
        bindir,
        cfg,
        layout,
        PG_DATABASE,
        f"SELECT name FROM pg_available_extensions WHERE name IN ({names})",
    )
    for name in available.split():
        _psql(bindir, cfg, layout, PG_DATABASE, f'CREATE EXTENSION IF NOT EXISTS "{name}"')


def _start_postgres(cfg: LocalConfig) -> None:
    bindir = _pg_bindir()
    layout = _pg_layout(cfg, create_user=True)
    if _pg_pid(layout.data_dir) is None:
        _require_port_free(cfg.pg_port, "PostgreSQL", "CRM_PG_PORT")
        for directory in (cfg.logs_dir, cfg.run_dir):
            directory.mkdir(parents=True, exist_ok=True)
        if layout.data_dir.parent != cfg.local_dir:
            _prepare_dir(layout.data_dir.parent, layout.os_user, 0o755)
        # The server writes its socket and lock file here.
        _prepare_dir(layout.socket_dir, layout.os_user, 0o755)
        _initdb(bindir, layout)
        _write_pg_config(cfg, layout)
        # A postmaster killed under an init that never reaps stays a zombie, and the server
        # would take its pid in postmaster.pid as a live postmaster: we know it is gone.
        (layout.data_dir / "postmaster.pid").unlink(missing_ok=True)
        _rotate(layout.log_file)
        layout.log_file.touch()
        _chown(layout.log_file, layout.os_user)
        if layout.log_file.parent != cfg.logs_dir:
            # Keep the documented log path working when the server files moved to /tmp.
            link = cfg.logs_dir / "postgres.log"
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(layout.log_file)
        done = subprocess.run(
            [
                str(bindir / "pg_ctl"),
                "start",
                "-D",
                str(layout.data_dir),
                "-l",
                str(layout.log_file),
                "-w",
                "-t",
                str(PG_START_TIMEOUT),
            ],
            capture_output=True,
            text=True,
            cwd="/",
            env=_pg_env(),
            # pg_ctl's postmaster inherits the session: keep it away from the caller's Ctrl-C.
            start_new_session=True,
            timeout=PG_START_TIMEOUT + 30,
            check=False,
            **_as_user(layout.os_user),
        )
        if done.returncode != 0:
            raise LauncherError(
                f"PostgreSQL did not start within {PG_START_TIMEOUT}s "
                f"({_tail(done.stdout + done.stderr, 1)}); see {layout.log_file}"
            )
    _ensure_database(bindir, cfg, layout)
    if not _pg_answers(cfg, layout):
        raise LauncherError(
            f"PostgreSQL runs but refuses {cfg.endpoints.database_url}; see {layout.log_file}"
        )


def _stop_postgres(cfg: LocalConfig) -> None:
    layout = _pg_layout(cfg, create_user=False)
    if _pg_pid(layout.data_dir) is None:
        return
    bindir = _pg_bindir()
    done = subprocess.run(
        [
            str(bindir / "pg_ctl"),
            "stop",
            "-D",
            str(layout.data_dir),
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
        ],
        capture_output=True,
        text=True,
        cwd="/",
        env=_pg_env(),
        timeout=90,
        check=False,
        **_as_user(layout.os_user),
    )
    if done.returncode != 0 and _pg_pid(layout.data_dir) is not None:
        raise LauncherError(
            f"PostgreSQL did not stop: {_tail(done.stderr, 1)}; see {layout.log_file}"
        )
