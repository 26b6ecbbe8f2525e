"""The package boundaries hold (``lint-imports``, contracts in pyproject.toml), and each
contract breaks when a forbidden import is written into a copy of the code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.checkout import ROOT, copy_code

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PLATFORM = "shared runtime imports no context, gateway, projection or launcher"
CONTEXTS = "contexts and the gateway are independent of each other"
CONTRACTS = "contracts import no service, projection or launcher"


def lint_imports(code: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=code, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_code_keeps_every_import_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in (PLATFORM, CONTEXTS, CONTRACTS):
        assert name in result.stdout


# (module written into the copy, its text, the contract it must break)
VIOLATIONS = [
    ("services/platform/uses_sales.py", "import services.sales.domain\n", PLATFORM),
    ("services/platform/uses_gateway.py", "from services.gateway import auth\n", PLATFORM),
    ("services/platform/uses_launcher.py", "import deploy.local.launcher\n", PLATFORM),
    ("services/platform/uses_projection.py", "import projections.timeline\n", PLATFORM),
    ("services/sales/uses_gateway.py", "from services.gateway import auth\n", CONTEXTS),
    ("services/gateway/uses_sales.py", "import services.sales.application\n", CONTEXTS),
    ("contracts/uses_platform.py", "import services.platform.settings\n", CONTRACTS),
    ("contracts/uses_launcher.py", "import deploy.local\n", CONTRACTS),
]


@pytest.mark.parametrize(("module", "text", "contract"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, text: str, contract: str
) -> None:
    code = copy_code(tmp_path)
    (code / module).write_text(text)
    result = lint_imports(code)
    assert result.returncode != 0
    assert f"{contract} BROKEN" in " ".join(result.stdout.split())


def test_a_new_context_may_not_import_another_context(tmp_path: Path) -> None:
    code = copy_code(tmp_path)
    # support exists now; the contract must hold for a module added to it all the same.
    (code / "services" / "support").mkdir(exist_ok=True)
    (code / "services" / "support" / "uses_sales.py").write_text("import services.sales\n")
    result = lint_imports(code)
    assert result.returncode != 0
    assert f"{CONTEXTS} BROKEN" in " ".join(result.stdout.split())


def test_a_new_folder_under_services_must_be_placed_in_the_layers(tmp_path: Path) -> None:
    code = copy_code(tmp_path)
    (code / "services" / "billing").mkdir()
    (code / "services" / "billing" / "__init__.py").write_text('"""Not in the layers yet."""\n')
    result = lint_imports(code)
    assert result.returncode != 0
    assert "services.billing" in result.stdout + result.stderr
