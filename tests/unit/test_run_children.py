"""``make run`` starts the catalogue's processes, on the catalogue's ports unless told."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.catalogue import CONTEXTS, all_processes
from deploy.local import run


def parse(*argv: str) -> list[run.Child]:
    parser_args = run.parse_args(list(argv))
    return run._children(parser_args, Path("/logs"))


def test_one_child_per_catalogue_process_with_its_command_and_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for entry in all_processes():
        monkeypatch.delenv(entry.port_setting, raising=False)
    children = parse()
    assert [c.name for c in children] == [p.name for p in all_processes()]
    for child, entry in zip(children, all_processes(), strict=True):
        assert child.argv[1:] == ["-m", *entry.module_args]
        assert child.port == entry.port


def test_ports_come_from_flags_old_and_new(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_GATEWAY_PORT", "18100")
    ports = {
        c.name: c.port
        for c in parse("--sales-port", "18101", "--timeline-projector-port", "18201",
                       "--customer360-port", "18202")
    }  # fmt: skip
    assert ports["gateway"] == 18100
    assert ports["sales-api"] == 18101
    assert ports["timeline-projector"] == 18201
    assert ports["customer360-projector"] == 18202


def test_each_child_gets_its_port_setting_and_the_gateway_each_context_url() -> None:
    apis = {c.api.name: 18101 + n for n, c in enumerate(CONTEXTS) if c.api is not None}
    flags = [arg for name, port in apis.items() for arg in (f"--{name}-port", str(port))]
    children = parse(*flags, "--gateway-port", "18100")
    env = {c.name: run._child_env(c, children, "kafka:1", "postgresql://db") for c in children}
    for child in children:
        assert env[child.name][child.process_entry.port_setting] == str(child.port)
    assert len(apis) == len(CONTEXTS) >= 2
    for context in CONTEXTS:
        assert context.api is not None
        port = apis[context.api.name]
        assert env["gateway"][context.url_setting] == f"http://127.0.0.1:{port}"
