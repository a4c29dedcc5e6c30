"""Carry optimizer state across a cut: Adam moments and momentum sliced to the kept entries.

Torch-Pruning users lose optimizer state after a cut; here training goes on exactly where it
was, for the surviving weights.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


def carry_optimizer(
    optimizer: torch.optim.Optimizer,
    old_params: Mapping[str, nn.Parameter],
    old_names: Mapping[int, str],
    new_params: Mapping[str, nn.Parameter],
    slices: Mapping[str, list[tuple[int, torch.Tensor]]],
) -> None:
    """Point ``optimizer`` at the cut parameters and slice their state like the parameters.

    ``old_names`` maps ``id(parameter)`` of the network before the cut to its name; parameters
    the optimizer holds from other networks are left untouched, and parameters the new network
    no longer has (a removed block) are dropped. State tensors shaped like their parameter are
    sliced (per-parameter scalars such as Adam's ``step`` are kept).
    """
    for group in optimizer.param_groups:
        params = []
        for p in group["params"]:
            name = old_names.get(id(p))
            if name is None:
                params.append(p)
                continue
            state = optimizer.state.pop(p, None)
            if name not in new_params:
                continue
            new_p = new_params[name]
            params.append(new_p)
            if state is None:
                continue
            shape = old_params[name].shape
            for key, value in list(state.items()):
                if isinstance(value, torch.Tensor) and value.shape == shape:
                    for dim, index in slices.get(name, []):
                        value = value.index_select(dim, index.to(value.device))
                    state[key] = value.clone()
            optimizer.state[new_p] = state
        group["params"] = params
