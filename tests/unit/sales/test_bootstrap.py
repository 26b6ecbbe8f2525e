"""The composition root reads the environment and the config files once, and callers
override what they need; the handlers then work with what it was given."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

from services.sales.application import commands as cmd
from services.sales.application.handlers import HANDLERS
from services.sales.bootstrap import CONFIG_DIR, load_config
from services.sales.domain import quote
from tests.unit.sales.sales_spec import SalesSpec


def test_the_approval_threshold_comes_from_the_environment_given() -> None:
    assert load_config(env={}).approval_threshold_percent == Decimal(15)  # the README's default
    env = {"CRM_SALES_APPROVAL_THRESHOLD": "7.5"}
    assert load_config(env=env).approval_threshold_percent == Decimal("7.5")


def test_the_assignment_rules_come_from_the_config_directory_given(tmp_path: Path) -> None:
    for name in ("catalogue.json", "pipeline.json"):
        (tmp_path / name).write_text((CONFIG_DIR / name).read_text())
    rules = {"default_team": "solo", "teams": [{"name": "solo", "sellers": ["only-one"]}]}
    (tmp_path / "assignment.json").write_text(json.dumps(rules))
    assert load_config(env={}, config_dir=tmp_path).rules.team_of("only-one") == "solo"


async def test_an_override_reaches_the_handlers() -> None:
    # 20 % off: above the default threshold (an approval first), below an override of 25.
    items = (cmd.QuoteLine("CRM-SEAT", Decimal(1), Decimal(20)),)
    for threshold, needs_approval in ((None, True), (Decimal(25), False)):
        sales = (
            SalesSpec() if threshold is None else SalesSpec(approval_threshold_percent=threshold)
        )
        quote_id = uuid4()
        await sales.given(cmd.IssueQuote(quote_id, "c-1", "BRL-standard", items))
        state, _ = await sales.runtime.load(quote.decider, quote.stream_id(quote_id))
        assert state.requires_approval is needs_approval


def test_every_application_command_has_a_handler() -> None:
    wrappers = {
        value
        for value in vars(cmd).values()
        if isinstance(value, type) and value.__module__ == cmd.__name__
    }
    payloads = {cmd.DealDraft, cmd.QuoteLine}  # parts of commands, not commands
    assert wrappers - payloads <= set(HANDLERS)
