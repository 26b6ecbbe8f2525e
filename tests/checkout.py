"""A throwaway copy of the project's code, for tests that must run it from elsewhere
(another working directory, a read-only tree, a copy that is not a checkout)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("contracts", "services", "projections", "deploy", "bench")


def copy_code(target: Path, *, checkout: bool = True) -> Path:
    """The packages (without caches or local state) under ``target``; with ``checkout``,
    also ``pyproject.toml`` and ``constraints.txt``, as in a clone or the image's /app."""
    ignore = shutil.ignore_patterns("__pycache__", ".local", "*.pyc")
    for name in PACKAGES:
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    if checkout:
        for name in ("pyproject.toml", "constraints.txt"):
            shutil.copy2(ROOT / name, target / name)
    return target
