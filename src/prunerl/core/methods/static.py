"""Static random sparsity: the baseline for dynamic sparse training."""

from __future__ import annotations

import torch

from prunerl.core.allocation import random_mask
from prunerl.core.methods.base import MaskContext, Method, methods


@methods.register("static")
class StaticSparse(Method):
    """A random mask drawn before training and never changed."""

    default_schedule = "constant"
    sparse_from_start = True

    def init_masks(self, ctx: MaskContext) -> list[torch.Tensor] | None:
        return [
            random_mask(t.mask.shape, s, ctx.generator).to(t.mask.device)
            for t, s in zip(ctx.targets, ctx.target_sparsities(), strict=True)
        ]

    def update(self, ctx: MaskContext) -> list[torch.Tensor]:
        return [t.mask for t in ctx.targets]
