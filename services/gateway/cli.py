"""``crm auth``: gateway credentials (JWTs for people, API keys for other systems, key
rotation) from the same key ring the gateway reads, wherever ``crm`` runs.

Mounted on ``crm`` through the catalogue's command groups: the key ring is the
gateway's, and the shared runtime's CLI never imports the gateway.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from services.gateway.auth import KeyRing, KeyRingError, local_key_file
from services.platform.cli.common import fail

auth_app = typer.Typer(
    help="Gateway credentials: JWTs for people, API keys for other systems, key rotation "
    "(local key ring in .local/gateway/keys.json, or CRM_GATEWAY_JWT_KEYS).",
    no_args_is_help=True,
)


def _load() -> KeyRing:
    """The gateway's key ring; says on stderr when this call created it, and where."""
    try:
        path = None if os.environ.get("CRM_GATEWAY_JWT_KEYS") else local_key_file()
        existed = path is None or path.exists()
        ring = KeyRing.load()
    except KeyRingError as exc:
        fail(str(exc), 1)
    if not existed:
        typer.echo(f"created a new key ring in {path}", err=True)
    return ring


def _save(ring: KeyRing) -> None:
    if os.environ.get("CRM_GATEWAY_JWT_KEYS"):
        # The gateway would never see a change written to the local file.
        fail("the key ring comes from CRM_GATEWAY_JWT_KEYS here: change it there", 2)
    try:
        ring.save()
    except KeyRingError as exc:
        fail(str(exc), 1)


@auth_app.command("token")
def issue_token(
    subject: Annotated[str, typer.Option("--sub", help="Who: a user id, e.g. seller-sp-01")],
    role: Annotated[
        str,
        typer.Option(
            help="seller, sales_manager, service_agent, marketer, analyst, integration or admin"
        ),
    ],
    team: Annotated[str | None, typer.Option(help="Team (sellers, sales managers)")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 3600,
) -> None:
    """Print a signed bearer token for local use."""
    try:
        typer.echo(_load().issue(subject, role, team=team, ttl_seconds=ttl))
    except ValueError as exc:
        fail(str(exc), 2)


@auth_app.command("api-key")
def create_api_key(
    name: Annotated[str, typer.Option(help="The system it is for, e.g. shop")],
    role: Annotated[str, typer.Option(help="Usually integration")] = "integration",
    source: Annotated[
        list[str] | None,
        typer.Option(help="CloudEvent source its events must carry (repeatable; any if none)"),
    ] = None,
) -> None:
    """Create an API key; it is printed once, only its digest is stored."""
    ring = _load()
    try:
        _, key = ring.create_api_key(name, role, tuple(source or ()))
    except ValueError as exc:
        fail(str(exc), 2)
    _save(ring)
    typer.echo(key)


@auth_app.command("rotate")
def rotate_signing_key() -> None:
    """Sign new tokens with a fresh key; tokens signed with the old keys still verify."""
    ring = _load()
    kid = ring.rotate()
    _save(ring)
    typer.echo(f"now signing with {kid}; remove old keys from the ring once their tokens expire")
