"""Random scores: the baseline every criterion must beat."""

from __future__ import annotations

import torch

from prunerl.core.criteria.base import Criterion, criteria
from prunerl.core.gradients import GradientStats
from prunerl.core.targets import Target


@criteria.register("random")
class Random(Criterion):
    """Keep a uniformly random subset of weights (seeded)."""

    def __init__(self, seed: int = 0) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def state_dict(self) -> dict[str, object]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, object]) -> None:
        generator = state["generator"]
        assert isinstance(generator, torch.Tensor)
        self.generator.set_state(generator)

    def scores(self, target: Target, index: int, stats: GradientStats | None) -> torch.Tensor:
        return torch.rand(target.mask.shape, generator=self.generator).to(target.mask.device)
