"""The configurable sales pipeline: which stages, in which order, with what win probability."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import get_args

from contracts.events.sales import PipelineStage

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "config" / "pipeline.json"
CLOSED: frozenset[str] = frozenset({"won", "lost"})
_KNOWN: frozenset[str] = frozenset(get_args(PipelineStage))


@dataclass(frozen=True)
class Pipeline:
    probabilities: dict[str, Decimal]
    """Stage name -> win probability in percent, in pipeline order."""

    @classmethod
    def load(cls, path: Path | None = None) -> Pipeline:
        raw = json.loads((path or DEFAULT_FILE).read_text())
        stages = {s["name"]: Decimal(s["probability"]) for s in raw["stages"]}
        unknown = set(stages) - _KNOWN
        if unknown:
            raise ValueError(f"pipeline stages not in the contract: {sorted(unknown)}")
        if not set(stages) >= CLOSED:
            raise ValueError("a pipeline needs the closed stages 'won' and 'lost'")
        if not set(stages) - CLOSED:
            raise ValueError("a pipeline needs at least one open stage")
        return cls(stages)

    @property
    def first_stage(self) -> PipelineStage:
        stage = next(s for s in self.probabilities if s not in CLOSED)
        return stage  # type: ignore[return-value]  # load() checked it is a PipelineStage

    def has(self, stage: str) -> bool:
        return stage in self.probabilities

    def probability(self, stage: str) -> Decimal:
        return self.probabilities[stage]


DEFAULT_PIPELINE = Pipeline.load()
