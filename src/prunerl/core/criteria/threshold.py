"""Absolute threshold: ``w = 0 if |w| < θ else w`` (magnitude pruning by a fixed cut-off)."""

from __future__ import annotations

import torch

from prunerl.core.criteria.base import Criterion, criteria
from prunerl.core.gradients import GradientStats
from prunerl.core.targets import Target


@criteria.register("threshold")
class Threshold(Criterion):
    """Prune every weight with |w| below a fixed θ (the sparsity follows from θ)."""

    def __init__(self, theta: float = 1e-2) -> None:
        if theta < 0:
            raise ValueError(f"threshold theta must be >= 0, got {theta}")
        self.theta = float(theta)

    def scores(self, target: Target, index: int, stats: GradientStats | None) -> torch.Tensor:
        return target.param.detach().abs().float()

    def threshold(self, scores: torch.Tensor) -> float | None:
        return self.theta
