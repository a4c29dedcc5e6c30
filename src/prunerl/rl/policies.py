"""Stochastic actors for continuous actions: PPO's Gaussian and SAC's tanh-squashed Gaussian.

Each keeps its layers in one plain ``nn.Sequential`` (so structural pruning can cut them) and
maps observations to its deterministic action in ``forward`` (what export and ``predict`` use).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from prunerl.rl.distributions import DiagGaussian, squashed_sample
from prunerl.rl.networks import mlp

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0


class GaussianActor(nn.Module):
    """Diagonal Gaussian policy with a state-independent log-std (the PPO convention)."""

    def __init__(self, mean: nn.Sequential, action_dim: int, log_std_init: float = 0.0) -> None:
        super().__init__()
        self.mean = mean
        self.log_std = nn.Parameter(torch.full((action_dim,), float(log_std_init)))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """The mean action (unclipped)."""
        return self.mean(obs)

    def distribution(self, obs: torch.Tensor) -> DiagGaussian:
        return DiagGaussian(self.mean(obs), self.log_std)


class SquashedGaussianActor(nn.Module):
    """``tanh``-squashed Gaussian rescaled to a Box's bounds (SAC, Haarnoja et al. 2018).

    ``net`` outputs the mean and the log-std side by side (``2 * action_dim`` units).
    """

    scale: torch.Tensor
    offset: torch.Tensor

    def __init__(
        self,
        obs_dim: int,
        low: np.ndarray,
        high: np.ndarray,
        hidden: Sequence[int] = (256, 256),
        act: str = "relu",
    ) -> None:
        super().__init__()
        self.action_dim = int(np.prod(low.shape))
        self.net = mlp(obs_dim, 2 * self.action_dim, hidden, act)
        low_t = torch.as_tensor(low, dtype=torch.float32).flatten()
        high_t = torch.as_tensor(high, dtype=torch.float32).flatten()
        self.register_buffer("scale", (high_t - low_t) / 2)
        self.register_buffer("offset", (high_t + low_t) / 2)

    def _mean_log_std(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = self.net(obs).split(self.action_dim, dim=-1)
        return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic action ``tanh(mean)``, rescaled to the bounds."""
        mean, _ = self._mean_log_std(obs)
        return torch.tanh(mean) * self.scale + self.offset

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A reparameterised action within the bounds and its log-probability."""
        squashed, log_prob = squashed_sample(*self._mean_log_std(obs))
        # the affine rescaling changes the density by a constant: log|det| = sum(log scale)
        return squashed * self.scale + self.offset, log_prob - self.scale.log().sum()
