"""The self-service rules read from ``config/self_service.json``: the return window, how
long a return label is valid, and whether (and after what grace) the worker refunds late
deliveries on its own."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SelfServiceRules:
    return_window_days: int = 30
    return_label_valid_days: int = 14
    auto_refund_late_deliveries: bool = False
    late_delivery_grace_days: int = 0

    @property
    def return_window(self) -> timedelta:
        return timedelta(days=self.return_window_days)

    @property
    def label_validity(self) -> timedelta:
        return timedelta(days=self.return_label_valid_days)

    @classmethod
    def load(cls, path: Path | str) -> SelfServiceRules:
        raw: dict[str, Any] = json.loads(Path(path).read_text())
        rules = cls(
            return_window_days=_days(raw, "return_window_days", 30),
            return_label_valid_days=_days(raw, "return_label_valid_days", 14),
            auto_refund_late_deliveries=raw.get("auto_refund_late_deliveries", False),
            late_delivery_grace_days=_days(raw, "late_delivery_grace_days", 0),
        )
        if not isinstance(rules.auto_refund_late_deliveries, bool):
            raise ValueError(f"{path}: auto_refund_late_deliveries must be true or false")
        return rules


def _days(raw: dict[str, Any], name: str, default: int) -> int:
    value = raw.get(name, default)
    # bool is an int in Python: refuse it, a typo'd "true" must not become one day.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a whole number of days (0 or more), got {value!r}")
    return value
