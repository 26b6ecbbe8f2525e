"""The one generic forwarder: a context's operation, authenticated and admitted by the
roles of its contract, sent to the context's API, its answer passed back as it is.

The service validates the body and answers its own problem documents; the consistency
token of a command's answer is minted by the service and passed through (also as the
``X-Consistency-Token`` header), so a read can wait for it whatever context wrote.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import aiohttp
import orjson
import yarl
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.access import admit, identify
from services.gateway.auth import Principal
from services.gateway.errors import GatewayProblem, unavailable
from services.gateway.middleware import send_problem
from services.gateway.plugged import Operation
from services.gateway.runtime import GatewayRuntime
from services.platform.logging import get_logger

log = get_logger(__name__)

FORWARDED_REQUEST_HEADERS = ("content-type", "idempotency-key", "if-match", "accept")
FORWARDED_RESPONSE_HEADERS = (
    "content-disposition", "etag", "location", "retry-after", "x-consistency-token"
)  # fmt: skip
TOKEN_HEADER = "x-consistency-token"


@functools.cache
def _service_root(base: str) -> yarl.URL:
    return yarl.URL(base)  # parsed once per service, not per request


def upstream_url(base: str, path: str, query_string: bytes, prefix: str = "/v1") -> yarl.URL:
    """The service's URL for a gateway path: the service's own host, whatever the path.

    ``path`` is the decoded path the route was matched on; it is re-encoded here, so an
    encoded ``%2F``, ``@`` or ``:`` can neither escape the path nor change the host.
    """
    service_path = path.removeprefix(prefix.rstrip("/"))
    if not service_path.startswith("/") or any(
        segment in ("", ".", "..") for segment in service_path.split("/")[1:]
    ):
        raise GatewayProblem(404, "Not Found", "no such resource", "not-found")
    root = _service_root(base)
    query = urlencode(QueryParams(query_string.decode("latin-1")).multi_items())
    return yarl.URL.build(
        scheme=root.scheme, host=root.raw_host or "", port=root.explicit_port,
        path=root.raw_path.rstrip("/") + quote(service_path, safe="/"),
        query_string=query, encoded=True,
    )  # fmt: skip


@dataclass(frozen=True)
class Route:
    """An operation and where its context listens."""

    operation: Operation
    base_url: str
    prefix: str


@dataclass(frozen=True)
class Upstream:
    status: int
    headers: dict[str, str]
    content: bytes
    media_type: str


def actor_headers(principal: Principal) -> dict[str, str]:
    """Who is calling, for the service's own record-level rules (a deal's team). Built
    from the verified credentials: a client's own X-Actor-* headers never pass.
    Percent-encoded: HTTP header values are Latin-1 on the way in, and "José" is not."""
    headers = {
        "x-actor-id": quote(principal.subject, safe=""),
        "x-actor-role": quote(principal.role, safe=""),
    }
    if principal.team:
        headers["x-actor-team"] = quote(principal.team, safe="")
    return headers


async def forward(
    runtime: GatewayRuntime,
    route: Route,
    path: str,
    query_string: bytes,
    request_headers: Headers,
    body: bytes,
    principal: Principal,
    correlation_id: str,
) -> Upstream:
    """Send a request to the context that owns it; its answer, as it came."""
    # Present but empty is forwarded too: an empty If-Match is the service's to refuse.
    headers = {k: v for k in FORWARDED_REQUEST_HEADERS if (v := request_headers.get(k)) is not None}
    headers["x-correlation-id"] = correlation_id
    headers.update(actor_headers(principal))
    url = upstream_url(route.base_url, path, query_string, route.prefix)
    context = route.operation.context
    try:
        async with runtime.http.request(
            route.operation.method, url, data=body or None, headers=headers
        ) as upstream:
            content = await upstream.read()
            status = upstream.status
            upstream_headers = upstream.headers
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("gateway.upstream_unavailable", service=context, error=repr(exc))
        raise unavailable(f"the {context} service") from None
    out_headers = {k: v for k in FORWARDED_RESPONSE_HEADERS if (v := upstream_headers.get(k))}
    media_type = upstream_headers.get("content-type", "application/json")
    if (
        TOKEN_HEADER not in out_headers
        and 200 <= status < 300
        and media_type.startswith("application/json")
        and b"consistency_token" in content
    ):
        answer = orjson.loads(content)
        token = answer.get("consistency_token") if isinstance(answer, dict) else None
        if isinstance(token, str):
            out_headers[TOKEN_HEADER] = token  # the same token, where a proxy can see it
    return Upstream(status, out_headers, content, media_type)


class ForwardingMiddleware:
    """Answers every operation of the plugged contexts: authenticate, admit, forward.

    A path a context serves with another method answers 405; anything else goes on to
    the gateway's own routes.
    """

    def __init__(self, app: ASGIApp, routes: list[Route]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        on_path = [r for r in self.routes if r.operation.pattern.match(path) is not None]
        matched = next((r for r in on_path if r.operation.method == method), None)
        if matched is None:
            if on_path and method != "OPTIONS":  # a CORS preflight is the CORS layer's
                allow = ", ".join(sorted({r.operation.method for r in on_path}))
                await send_problem(
                    send, 405, "Method not allowed", f"{path} answers {allow}",
                    "method-not-allowed", {"Allow": allow},
                )  # fmt: skip
                return
            await self.app(scope, receive, send)
            return
        runtime: GatewayRuntime = scope["app"].state.gateway
        headers = Headers(scope=scope)
        try:
            principal = identify(runtime, headers, scope.get("client"))
            operation = matched.operation
            admit(runtime, principal, operation.route_id, operation.roles)
            body = await _read_body(receive)
            upstream = await forward(
                runtime, matched, path, scope.get("query_string", b""), headers, body,
                principal, scope["state"]["correlation_id"],
            )  # fmt: skip
        except GatewayProblem as exc:
            await send_problem(send, exc.status, exc.title, exc.detail, exc.kind, exc.headers)
            return
        raw_headers = [
            (b"content-type", upstream.media_type.encode("latin-1")),
            (b"content-length", str(len(upstream.content)).encode()),
            *[(k.encode("latin-1"), v.encode("latin-1")) for k, v in upstream.headers.items()],
        ]
        await send({"type": "http.response.start", "status": upstream.status,
                    "headers": raw_headers})  # fmt: skip
        await send({"type": "http.response.body", "body": upstream.content})


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
