"""Who is calling and whether they may: credentials, rate limits, roles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import Headers
from starlette.routing import compile_path

from services.gateway.auth import AuthError, KeyRing, Principal, UnknownKeyError
from services.gateway.errors import GatewayProblem
from services.gateway.middleware import retry_after
from services.gateway.policy import GATEWAY_MATRIX
from services.gateway.runtime import GatewayRuntime


def runtime_of(request: Request) -> GatewayRuntime:
    runtime: GatewayRuntime = request.app.state.gateway
    return runtime


def authenticate(runtime: GatewayRuntime, headers: Headers) -> Principal:
    """The caller, from a bearer token or an API key; a 401 problem otherwise."""
    try:
        return credentials(runtime.current_keys(), headers)
    except AuthError as exc:
        raise unauthenticated(exc) from None


def unauthenticated(exc: AuthError) -> GatewayProblem:
    return GatewayProblem(
        401, "Unauthenticated", str(exc), "unauthenticated",
        {"WWW-Authenticate": 'Bearer realm="opencrm", ApiKey'},
    )  # fmt: skip


def credentials(keys: KeyRing, headers: Headers) -> Principal:
    """The caller, from a bearer token or an API key; ``AuthError`` says why not."""
    api_key = headers.get("x-api-key")
    authorization = headers.get("authorization")
    if api_key:
        return keys.verify_api_key(api_key.strip())
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return keys.verify(value.strip())
        if scheme.lower() == "apikey" and value.strip():
            return keys.verify_api_key(value.strip())
        raise AuthError("use 'Authorization: Bearer <token>' or 'X-API-Key: <key>'")
    raise AuthError("credentials required: a bearer token or an API key")


def identify(runtime: GatewayRuntime, headers: Headers, client: Any) -> Principal:
    """``authenticate``, with failures counted per client address: guessing gets a 429.
    An unknown key id re-reads a changed key ring once: a new API key works at once."""
    try:
        try:
            return credentials(runtime.current_keys(), headers)
        except UnknownKeyError:
            if not runtime.reload_keys_if_changed():
                raise
            return credentials(runtime.keys, headers)
    except AuthError as exc:
        address = client[0] if client else "unknown"
        wait = runtime.failed_auth.take(f"address:{address}")
        if wait > 0:
            raise GatewayProblem(
                429, "Too many failed authentications",
                "wait before trying other credentials", "rate-limited",
                {"Retry-After": retry_after(wait)},
            ) from None  # fmt: skip
        raise unauthenticated(exc) from None


def admit(runtime: GatewayRuntime, principal: Principal, rid: str, roles: frozenset[str]) -> None:
    """Rate limit per client, then the route's roles: 429 or 403 problems."""
    wait = runtime.limiter.take(principal.client_id)
    if wait > 0:
        raise GatewayProblem(
            429, "Too many requests",
            f"at most {runtime.settings.rate_per_second:g} requests a second per client",
            "rate-limited", {"Retry-After": retry_after(wait)},
        )  # fmt: skip
    if principal.role not in roles:
        raise GatewayProblem(
            403, "Forbidden", f"role {principal.role!r} may not {rid}", "forbidden"
        )


_OWN_ROUTES = [
    (method, compile_path(path)[0], f"{method} {path}")
    for method, path in (key.split(" ", 1) for key in GATEWAY_MATRIX)
]


def own_route_id(request: Request) -> str:
    """``METHOD /v1/template`` of a gateway route, as the matrix names it.

    Matched against the matrix's own templates rather than read from the router, whose
    nesting of included routers is an implementation detail of FastAPI.
    """
    path = request.url.path
    for method, pattern, key in _OWN_ROUTES:
        if method == request.method and pattern.match(path):
            return key
    return f"{request.method} {path}"


async def guard(request: Request) -> Principal:
    """Authenticate, rate-limit and authorise a gateway route; the principal."""
    runtime = runtime_of(request)
    principal = identify(runtime, request.headers, request.scope.get("client"))
    rid = own_route_id(request)
    admit(runtime, principal, rid, GATEWAY_MATRIX.get(rid, frozenset()))
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(guard)]
