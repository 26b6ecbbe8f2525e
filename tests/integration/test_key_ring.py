"""``crm auth`` and the gateway share one key ring wherever ``crm`` runs, and an API key
it creates is accepted by a running gateway on its first request."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.gateway.auth import KeyRing, local_key_file
from tests.checkout import ROOT, copy_code
from tests.gateway_stack import gateway_stack

pytestmark = pytest.mark.integration


def crm_auth(
    code: Path, cwd: Path, *args: str, local_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``crm auth ...`` run by the copy of the code in ``code``, from ``cwd``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env["PYTHONPATH"] = str(code)
    if local_dir is not None:
        env["CRM_LOCAL_DIR"] = str(local_dir)
    return subprocess.run(
        [sys.executable, "-m", "services.platform.cli", "auth", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_a_token_made_outside_the_checkout_is_signed_by_the_checkouts_key_ring(
    tmp_path: Path,
) -> None:
    code = copy_code(tmp_path / "checkout")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    gateway_ring = KeyRing.load(code / ".local")  # what a gateway of that checkout reads

    made = crm_auth(code, elsewhere, "token", "--sub", "ana", "--role", "admin")

    assert made.returncode == 0, made.stderr
    assert gateway_ring.verify(made.stdout.strip()).subject == "ana"
    assert not (elsewhere / ".local").exists()


def test_a_copy_that_is_not_a_checkout_says_where_the_key_ring_should_be(
    tmp_path: Path,
) -> None:
    code = copy_code(tmp_path / "installed", checkout=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    made = crm_auth(code, elsewhere, "token", "--sub", "ana", "--role", "admin")

    assert made.returncode == 1
    assert made.stdout == ""
    assert "CRM_LOCAL_DIR" in made.stderr and "gateway/keys.json" in made.stderr
    assert not (elsewhere / ".local").exists() and not (code / ".local").exists()


async def test_an_api_key_just_created_is_accepted_on_its_first_request(
    tmp_path: Path, infra, schema
) -> None:
    local = tmp_path / "local"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    async with gateway_stack(infra.database_url, infra.kafka_bootstrap, schema) as stack:
        runtime = stack.runtime
        runtime.keys = KeyRing.load(local)
        runtime.keys_file = local_key_file(local)
        # No periodic re-read: only the re-read on an unknown key can accept the new one.
        runtime.keys_check_seconds = math.inf
        async with stack.client() as http:
            guessed = await http.get("/v1/pipeline", headers={"X-API-Key": "crm_0badc0de_x"})
            assert guessed.status_code == 401

            made = crm_auth(ROOT, elsewhere, "api-key", "--name", "shop", local_dir=local)
            assert made.returncode == 0, made.stderr
            answer = await http.get("/v1/pipeline", headers={"X-API-Key": made.stdout.strip()})

    # Authenticated, then refused by the role matrix: an integration key may publish
    # events, not read the pipeline (the README's table). 401 would mean "unknown key".
    assert answer.status_code == 403, answer.text
