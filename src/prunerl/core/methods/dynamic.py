"""Dynamic sparse training: drop the weakest connections and regrow as many elsewhere."""

from __future__ import annotations

import math

import torch

from prunerl.core.allocation import mask_topk
from prunerl.core.methods.base import MaskContext, methods
from prunerl.core.methods.static import StaticSparse
from prunerl.core.targets import Target
from prunerl.core.validation import check_fraction


class DropAndGrow(StaticSparse):
    """Shared drop/grow update; subclasses choose the grow scores.

    The drop fraction decays with a cosine from ``drop_fraction`` at ``begin`` to 0 at ``end``
    (Evci et al. 2020). Sparsity stays constant; grown weights start at zero.
    """

    def __init__(
        self, criterion: object, drop_fraction: float = 0.3, begin: int = 0, end: int = 10**12
    ) -> None:
        super().__init__(criterion)  # type: ignore[arg-type]
        self.drop_fraction = check_fraction(drop_fraction, "drop_fraction")
        self.begin, self.end = begin, end

    def fraction_at(self, step: int) -> float:
        if step >= self.end:
            return 0.0
        progress = max(0.0, (step - self.begin) / max(self.end - self.begin, 1))
        return self.drop_fraction * 0.5 * (1.0 + math.cos(math.pi * progress))

    def grow_scores(self, target: Target, index: int, ctx: MaskContext) -> torch.Tensor:
        raise NotImplementedError

    def update(self, ctx: MaskContext) -> list[torch.Tensor]:
        fraction = self.fraction_at(ctx.step)
        out = []
        for i, t in enumerate(ctx.targets):
            active = int(t.mask.sum())
            n_move = int(fraction * active)
            if n_move == 0:
                out.append(t.mask.clone())
                continue
            magnitude = t.param.detach().abs().float()
            survive = torch.where(t.mask, magnitude, torch.full_like(magnitude, float("-inf")))
            kept = mask_topk(survive, active - n_move)
            grow = self.grow_scores(t, i, ctx).float()
            grow = torch.where(kept, torch.full_like(grow, float("-inf")), grow)
            out.append(kept | mask_topk(grow, n_move))
        return out


@methods.register("set")
class SET(DropAndGrow):
    """Sparse Evolutionary Training: regrow at random (Mocanu et al. 2018)."""

    def grow_scores(self, target: Target, index: int, ctx: MaskContext) -> torch.Tensor:
        return torch.rand(target.mask.shape, generator=ctx.generator).to(target.mask.device)


@methods.register("rigl")
class RigL(DropAndGrow):
    """Rigged Lottery: regrow where |gradient| is largest (Evci et al. 2020)."""

    def grow_scores(self, target: Target, index: int, ctx: MaskContext) -> torch.Tensor:
        grad = target.param.grad
        if grad is not None:
            return grad.detach().abs()
        if ctx.stats is not None and ctx.stats.count > 0:
            return ctx.stats.mean_abs(index)
        raise RuntimeError(
            "rigl regrows by gradient: call pruner.step() after loss.backward() (before "
            "zero_grad), or call pruner.observe_gradients() each step"
        )
