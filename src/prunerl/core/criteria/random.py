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

    def scores(self, target: Target, index: int, stats: GradientStats | None) -> torch.Tensor:
        return torch.rand(target.mask.shape, generator=self.generator).to(target.mask.device)
