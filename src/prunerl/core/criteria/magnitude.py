"""Magnitude |w|: the classic and strongest simple criterion (Han et al. 2015; Zhu & Gupta 2017)."""

from __future__ import annotations

import torch

from prunerl.core.criteria.base import Criterion, criteria
from prunerl.core.gradients import GradientStats
from prunerl.core.targets import Target


@criteria.register("magnitude")
class Magnitude(Criterion):
    """Keep the weights of largest |w|."""

    def scores(self, target: Target, index: int, stats: GradientStats | None) -> torch.Tensor:
        return target.param.detach().abs().float()
