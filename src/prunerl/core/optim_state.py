"""Optimizer state surgery: zero momentum and moments where weights are pruned or regrown."""

from __future__ import annotations

from collections.abc import Sequence

import torch


@torch.no_grad()
def zero_state_where(
    optimizers: Sequence[torch.optim.Optimizer],
    params: Sequence[torch.Tensor],
    keep: Sequence[torch.Tensor],
) -> None:
    """Multiply every per-weight state tensor of ``params[i]`` by ``keep[i]`` (a bool mask).

    Covers SGD momentum, Adam/AdamW moments, RMSprop averages and any other state tensor of the
    parameter's shape; scalars such as Adam's step count are left alone. Without this, momentum
    would push a freshly pruned weight back (and a regrown one would start with stale moments).
    """
    by_param = {id(p): k for p, k in zip(params, keep, strict=True)}
    for opt in optimizers:
        for group in opt.param_groups:
            for p in group["params"]:
                k = by_param.get(id(p))
                if k is None:
                    continue
                for value in opt.state.get(p, {}).values():
                    if isinstance(value, torch.Tensor) and value.shape == k.shape:
                        value.mul_(k.to(value.dtype))
