"""The local PostgreSQL server from the machine's binaries, run as an unprivileged user
(it refuses to run as root; standard library only)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.local.config import (
    _MAX_SOCKET_PATH,
    PG_DATABASE,
    PG_EXTENSIONS,
    PG_OS_USERS,
    PG_PASSWORD,
    PG_START_TIMEOUT,
    PG_USER,
    LauncherError,
    LocalConfig,
)
from deploy.local.processes import (
    _pid_alive,
    _port_open,
    _read_pid,
    _require_port_free,
    _rotate,
    _tail,
)


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
