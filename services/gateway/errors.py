"""The gateway's own refusals, answered as RFC 9457 problem documents."""

from __future__ import annotations

from typing import Any


class GatewayProblem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        kind: str,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.kind = status, title, detail, kind
        self.headers = headers or {}
        self.extra = extra or {}


def unavailable(what: str, retry_seconds: int = 1) -> GatewayProblem:
    return GatewayProblem(
        503, "Service unavailable", f"{what} did not answer; retry", "unavailable",
        {"Retry-After": str(retry_seconds)},
    )  # fmt: skip
