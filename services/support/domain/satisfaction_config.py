"""How satisfaction is asked and counted (``config/satisfaction.json``): the CSAT scale,
how long a survey may be answered, the survey's language, and the business time zone
in which a rating's day, week and month are taken (a rating at 22:00 in São Paulo on
the last day of a month belongs to that month, not to the next one in UTC)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contracts.events.support_quality import Locale
from services.support.domain.csat import DEFAULT_SCALE, CsatScale

LOCALES: tuple[str, ...] = get_args(Locale)


@dataclass(frozen=True)
class SatisfactionSettings:
    scale: CsatScale = field(default=DEFAULT_SCALE)
    survey_valid_days: int = 7
    locale: Locale = "pt-BR"
    time_zone: str = "America/Sao_Paulo"

    def __post_init__(self) -> None:
        if not isinstance(self.survey_valid_days, int) or self.survey_valid_days < 1:
            raise ValueError("survey_valid_days must be a whole number of days >= 1")
        if self.locale not in LOCALES:
            raise ValueError(f"locale must be one of {', '.join(LOCALES)}")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from error

    @property
    def valid_for(self) -> timedelta:
        return timedelta(days=self.survey_valid_days)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SatisfactionSettings:
        scale = data.get("scale", {})
        return cls(
            scale=CsatScale(scale.get("low", 1), scale.get("high", 5),
                            scale.get("satisfied_from", 4)),
            survey_valid_days=data.get("survey_valid_days", 7),
            locale=data.get("locale", "pt-BR"),
            time_zone=data.get("time_zone", "America/Sao_Paulo"),
        )  # fmt: skip

    @classmethod
    def load(cls, path: Path | str) -> SatisfactionSettings:
        return cls.from_dict(json.loads(Path(path).read_text()))
