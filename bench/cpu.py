"""Where a benchmark's time goes: CPU seconds of each process taking part, from /proc.

On a 2-core machine the client, the gateway, the service and PostgreSQL share the cores,
so a rate below target is read with the CPU each of them spent per request: the process
that spends the most is where a change pays. Linux only (``/proc``); elsewhere the meter
reports nothing rather than guessing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PROC = Path("/proc")


def _cpu_and_parent(pid: int) -> tuple[float, int] | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:  # gone, or no /proc
        return None
    # The command name (field 2) may hold spaces: the fields after it follow its ")".
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS, int(fields[1])


def _children_of(parent: int) -> list[int]:
    found = []
    for entry in _PROC.iterdir() if _PROC.exists() else ():
        if entry.name.isdigit():
            seen = _cpu_and_parent(int(entry.name))
            if seen is not None and seen[1] == parent:
                found.append(int(entry.name))
    return found


def postmaster_of(backend_pid: int) -> int | None:
    """The PostgreSQL server a backend (``SELECT pg_backend_pid()``) belongs to."""
    seen = _cpu_and_parent(backend_pid)
    return seen[1] if seen else None


class CpuMeter:
    """CPU seconds so far of named processes: plain pids, ``postgres`` = a server's
    processes (its postmaster and every child), and this process (``client``)."""

    def __init__(self, processes: Mapping[str, int], postmaster: int | None = None) -> None:
        self.processes = dict(processes)
        self.postmaster = postmaster

    def snapshot(self) -> dict[str, float]:
        seconds = {"client": time.process_time()}
        for name, pid in self.processes.items():
            seen = _cpu_and_parent(pid)
            if seen is not None:
                seconds[name] = seen[0]
        if self.postmaster is not None:
            pids = [self.postmaster, *_children_of(self.postmaster)]
            seconds["postgres"] = sum(s[0] for s in map(_cpu_and_parent, pids) if s is not None)
        return seconds


def ms_per_request(spent: Mapping[str, float], requests: int) -> dict[str, float]:
    """CPU milliseconds per request of each process."""
    return {name: round(seconds * 1000 / requests, 2) for name, seconds in spent.items()}


def spent_between(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}
