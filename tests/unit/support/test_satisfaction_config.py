"""The satisfaction settings: the shipped file and the errors of a bad one."""

from __future__ import annotations

import pytest

from services.support.bootstrap import CONFIG_DIR
from services.support.domain.csat import CsatScale
from services.support.domain.satisfaction_config import SatisfactionSettings


def test_the_shipped_file_asks_one_to_five_satisfied_from_four_for_a_week() -> None:
    settings = SatisfactionSettings.load(CONFIG_DIR / "satisfaction.json")
    assert (settings.scale, settings.survey_valid_days) == (CsatScale(1, 5, 4), 7)


def test_a_zero_day_validity_is_refused() -> None:
    with pytest.raises(ValueError, match="survey_valid_days"):
        SatisfactionSettings.from_dict({"survey_valid_days": 0})


def test_a_threshold_off_the_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="satisfied_from"):
        SatisfactionSettings.from_dict({"scale": {"low": 1, "high": 5, "satisfied_from": 6}})
