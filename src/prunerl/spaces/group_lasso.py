"""Group lasso on the input layer during training, as a callback: irrelevant features get
exactly zero weights, so weight-norm importance separates them cleanly.

After each round of updates the first layer's input groups (one column per feature, or one
input channel per image plane) are shrunk by the proximal operator of ``tau * Σ_j ||W[:, j]||``
(block soft-thresholding; Yuan & Lin 2006, Parikh & Boyd 2014): ``W[:, j] *= max(0, 1 - tau /
||W[:, j]||)``. It works with any agent without touching its loss (for a loss term instead, see
``prunerl.group_lasso_penalty(first_layer, dim="in")``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from prunerl.rl.callbacks import Callback
from prunerl.spaces.surgery import input_layers

if TYPE_CHECKING:
    from prunerl.rl.base import Agent


@torch.no_grad()
def shrink_input_groups_(layer: nn.Module, tau: float, n_features: int | None = None) -> None:
    """Block soft-threshold the input groups of ``layer`` in place (the first ``n_features``)."""
    if tau < 0:
        raise ValueError(f"tau must be >= 0, got {tau}")
    w = layer.weight
    assert isinstance(w, torch.Tensor)
    n = w.shape[1] if n_features is None else n_features
    groups = w[:, :n]
    norms = groups.transpose(0, 1).reshape(n, -1).norm(dim=1)
    scale = (1.0 - tau / norms.clamp(min=1e-12)).clamp(min=0.0)
    groups.mul_(scale.view(1, n, *([1] * (w.dim() - 2))))


class InputGroupLasso(Callback):
    """Shrink the first-layer input groups of ``networks`` by ``strength`` after every update.

    ``networks`` default to every network that reads observations and is not a follower
    (target networks copy their source). ``n_features``: how many leading inputs are
    observation features (all by default).
    """

    def __init__(
        self,
        strength: float = 1e-3,
        networks: Sequence[str] | None = None,
        n_features: int | None = None,
    ) -> None:
        if strength < 0:
            raise ValueError(f"group lasso strength must be >= 0, got {strength}")
        self.strength = strength
        self.names = tuple(networks) if networks is not None else None
        self.n_features = n_features

    def on_update(self, agent: Agent, metrics: dict[str, float]) -> None:
        names = self.names or tuple(n for n in agent.networks if n not in agent.followers)
        for name in names:
            if name not in agent.networks:
                raise ValueError(
                    f"agent has no network {name!r}; choose from {sorted(agent.networks)}"
                )
            for layer in input_layers(agent.networks[name]):
                shrink_input_groups_(layer, self.strength, self.n_features)
