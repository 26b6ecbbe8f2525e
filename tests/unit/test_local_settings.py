"""A process given no URLs reaches the local launcher's infrastructure on the ports that
launcher was started with, so a second instance (CI beside a developer's) needs no URLs."""

from __future__ import annotations

import pytest

from services.platform.settings import Settings


def test_no_urls_and_no_ports_mean_the_default_launcher(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CRM_DATABASE_URL", "CRM_KAFKA_BOOTSTRAP", "CRM_PG_PORT", "CRM_KAFKA_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == "postgresql://crm:crm@127.0.0.1:55432/crm"
    assert settings.kafka_bootstrap == "127.0.0.1:19092"


def test_the_launchers_ports_move_the_default_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    monkeypatch.delenv("CRM_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("CRM_PG_PORT", "56432")
    monkeypatch.setenv("CRM_KAFKA_PORT", "29092")
    settings = Settings()
    assert settings.database_url == "postgresql://crm:crm@127.0.0.1:56432/crm"
    assert settings.kafka_bootstrap == "127.0.0.1:29092"


def test_a_url_given_wins_over_the_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_PG_PORT", "56432")
    monkeypatch.setenv("CRM_DATABASE_URL", "postgresql://crm:crm@db.internal:5432/crm")
    assert Settings().database_url == "postgresql://crm:crm@db.internal:5432/crm"
