"""Sparsity by loss: penalties the caller adds to its loss to push weights or neurons to zero."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

_PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def _layers(modules: nn.Module | Iterable[nn.Module]) -> list[nn.Module]:
    roots = [modules] if isinstance(modules, nn.Module) else list(modules)
    return [m for root in roots for m in root.modules() if isinstance(m, _PRUNABLE)]


def _weight(module: nn.Module) -> torch.Tensor:
    w = module.weight
    assert isinstance(w, torch.Tensor)
    return w


def l1_penalty(modules: nn.Module | Iterable[nn.Module], strength: float = 1e-4) -> torch.Tensor:
    """``strength * Σ|w|`` over Linear/Conv weights: drives single weights to zero."""
    layers = _layers(modules)
    if not layers:
        raise ValueError("l1_penalty found no Linear/Conv layers in the given modules")
    total = torch.stack([_weight(m).abs().sum() for m in layers]).sum()
    return strength * total


def group_lasso_penalty(
    modules: nn.Module | Iterable[nn.Module], strength: float = 1e-4, dim: str = "out"
) -> torch.Tensor:
    """``strength * Σ_g sqrt(|g|)·||w_g||₂`` over neurons/channels (Yuan & Lin 2006).

    ``dim="out"`` groups each output neuron's (or channel's) incoming weights, so whole neurons
    go to zero and can later be cut; ``dim="in"`` groups each input feature's outgoing weights,
    which is what state-space pruning uses on the first layer.
    """
    if dim not in ("out", "in"):
        raise ValueError(f"dim must be 'out' or 'in', got {dim!r}")
    layers = _layers(modules)
    if not layers:
        raise ValueError("group_lasso_penalty found no Linear/Conv layers in the given modules")
    terms = []
    for m in layers:
        w = _weight(m)
        groups = w.transpose(0, 1) if dim == "in" else w
        flat = groups.reshape(groups.shape[0], -1)
        terms.append(flat.norm(dim=1).sum() * flat.shape[1] ** 0.5)
    return strength * torch.stack(terms).sum()
