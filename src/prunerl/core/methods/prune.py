"""Pruning by a criterion: keep the highest-scoring weights (one-shot, iterative or gradual)."""

from __future__ import annotations

import torch

from prunerl.core.allocation import global_masks, layer_masks, masked_scores
from prunerl.core.methods.base import MaskContext, Method, methods


@methods.register("prune")
class Prune(Method):
    """Prune the lowest-scoring weights by any criterion (one-shot by default)."""

    def update(self, ctx: MaskContext) -> list[torch.Tensor]:
        scores = [self.criterion.scores(t, i, ctx.stats) for i, t in enumerate(ctx.targets)]
        masks = [t.mask for t in ctx.targets]
        if self.criterion.threshold(scores[0]) is not None:
            return [self._rule(s, m) for s, m in zip(scores, masks, strict=True)]
        if ctx.scope == "global":
            out: list[torch.Tensor] = list(masks)
            for group, sparsity in zip(ctx.groups, ctx.group_sparsity, strict=True):
                kept = global_masks([scores[i] for i in group], [masks[i] for i in group], sparsity)
                for i, m in zip(group, kept, strict=True):
                    out[i] = m
            return out
        return layer_masks(scores, masks, ctx.target_sparsities())

    def _rule(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Rule-based criteria: prune below the criterion's threshold (over surviving weights)."""
        active = scores[mask] if mask.any() else scores.reshape(-1)
        threshold = self.criterion.threshold(active)
        assert threshold is not None
        return mask & (masked_scores(scores, mask) >= threshold)


@methods.register("gmp")
class GradualMagnitude(Prune):
    """Gradual magnitude pruning on a cubic schedule (Zhu & Gupta 2017; Graesser et al. 2022)."""

    default_schedule = "polynomial"


@methods.register("lottery")
class LotteryTicket(Prune):
    """Iterative magnitude pruning with rewinding of survivors (Frankle & Carbin 2019)."""

    default_schedule = "iterative"
    rewinds = True
