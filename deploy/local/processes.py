"""Processes and ports of the local infrastructure: pid files, liveness, the launcher
lock, detached spawning and log rotation (standard library only)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from deploy.local.config import _LOG_ROTATE_BYTES, LauncherError, LocalConfig


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


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
