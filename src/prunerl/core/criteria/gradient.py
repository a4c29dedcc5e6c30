"""Gradient-based criteria: importance from gradients recorded during training."""

from __future__ import annotations

import torch

from prunerl.core.criteria.base import Criterion, criteria
from prunerl.core.gradients import GradientStats
from prunerl.core.targets import Target


@criteria.register("gradient")
class Gradient(Criterion):
    """Keep the weights of largest |gradient|: mean since the last mask update, or last step's."""

    needs_gradients = True

    def __init__(self, average: bool = True) -> None:
        # average=False scores by the most recent gradient alone (a one-batch saliency)
        self.average = bool(average)
        self.needs_last = not self.average

    def scores(self, target: Target, index: int, stats: GradientStats | None) -> torch.Tensor:
        stats = self._require(stats, "gradient")
        return stats.mean_abs(index) if self.average else stats.last_abs(index)


@criteria.register("gradient_rule")
class GradientRule(Criterion):
    """Relative gradient rule: prune weights whose mean |g| < c · mean(|g|) of their layer."""

    needs_gradients = True

    def __init__(self, c: float = 0.1) -> None:
        if c < 0:
            raise ValueError(f"gradient_rule c must be >= 0, got {c}")
        self.c = float(c)

    def scores(self, target: Target, index: int, stats: GradientStats | None) -> torch.Tensor:
        return self._require(stats, "gradient_rule").mean_abs(index)

    def threshold(self, scores: torch.Tensor) -> float | None:
        return float(scores.mean().item()) * self.c


@criteria.register("taylor")
class Taylor(Criterion):
    """First-order Taylor |w·g| averaged over steps (Molchanov et al. 2017/2019)."""

    needs_gradients = True
    needs_taylor = True

    def scores(self, target: Target, index: int, stats: GradientStats | None) -> torch.Tensor:
        return self._require(stats, "taylor").mean_taylor(index)
