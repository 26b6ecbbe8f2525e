"""Command groups that live outside the shared runtime, found through the catalogue.

``crm infra`` belongs to the local launcher (``deploy``) and ``crm auth`` to the
gateway's key ring; the shared runtime may import neither (import-linter checks it), so
the catalogue names them as ``module:attribute`` and they are imported here by name.
They depend on the runtime, never the other way round.
"""

from __future__ import annotations

import importlib

import typer

from contracts.catalogue import COMMAND_GROUPS, CommandGroup


def load_group(group: CommandGroup) -> typer.Typer:
    """The typer app ``group.app`` names (``module:attribute``)."""
    module_name, _, attribute = group.app.partition(":")
    loaded = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(loaded, typer.Typer):
        raise TypeError(f"{group.app} is not a typer app")
    return loaded


def add_command_groups(app: typer.Typer, groups: tuple[CommandGroup, ...] = COMMAND_GROUPS) -> None:
    """Mount each catalogued command group on ``app`` under its name."""
    for group in groups:
        app.add_typer(load_group(group), name=group.name)
