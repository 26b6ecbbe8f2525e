"""The gateway re-reads its key ring file on an unknown key only when the file changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.gateway import auth
from services.gateway.app import GatewayRuntime, GatewaySettings
from services.gateway.auth import KeyRing
from services.gateway.middleware import RateLimiter


def test_guessed_key_ids_never_make_the_gateway_reread_an_unchanged_key_ring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRM_GATEWAY_JWT_KEYS", raising=False)
    ring = KeyRing.load(tmp_path)
    runtime = GatewayRuntime(
        settings=GatewaySettings(), keys=ring, pool=None, http=None, producer=None,  # type: ignore[arg-type]
        limiter=RateLimiter(1, 1), projections=None, data_keys=None,  # type: ignore[arg-type]
        keys_file=auth.local_key_file(tmp_path),
        _keys_seen=(0.0, auth.key_file_identity(auth.local_key_file(tmp_path))),
    )  # fmt: skip
    loads = []
    real_load = KeyRing.load.__func__  # type: ignore[attr-defined]

    def counting_load(cls: type[KeyRing], local_dir: Path | None = None) -> KeyRing:
        loads.append(local_dir)
        return real_load(cls, local_dir)  # type: ignore[no-any-return]

    monkeypatch.setattr(KeyRing, "load", classmethod(counting_load))

    assert not any(runtime.reload_keys_if_changed() for _ in range(100))
    assert loads == []

    _, key = ring.create_api_key("shop")
    ring.save(tmp_path)
    assert runtime.reload_keys_if_changed()
    assert runtime.keys.verify_api_key(key).subject == "shop"
    assert not runtime.reload_keys_if_changed()
    assert loads == [tmp_path]
