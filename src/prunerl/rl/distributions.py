"""Action distributions for policy-gradient agents, written out with plain tensor math.

``torch.distributions`` validates arguments and builds objects on every call, which costs more
than the forward pass of a small policy; these classes compute the same quantities directly.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class Categorical:
    """A categorical distribution over discrete actions, one row of logits per observation."""

    def __init__(self, logits: torch.Tensor) -> None:
        self.log_probs = F.log_softmax(logits, dim=-1)

    def sample(self) -> torch.Tensor:
        """Gumbel-max: ``argmax(log p - log E)`` with ``E ~ Exp(1)`` (cheaper than multinomial)."""
        noise = torch.empty_like(self.log_probs).exponential_().log()
        return (self.log_probs - noise).argmax(dim=-1)

    def mode(self) -> torch.Tensor:
        return self.log_probs.argmax(dim=-1)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        return self.log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        return -(self.log_probs.exp() * self.log_probs).sum(-1)


class DiagGaussian:
    """A Gaussian with diagonal covariance; log-probabilities and entropies sum over dimensions."""

    def __init__(self, mean: torch.Tensor, log_std: torch.Tensor) -> None:
        self.mean = mean
        self.log_std = log_std.expand_as(mean)

    def sample(self) -> torch.Tensor:
        return self.mean + self.log_std.exp() * torch.randn_like(self.mean)

    def rsample(self) -> torch.Tensor:
        """A sample that gradients flow through (reparameterisation trick)."""
        return self.sample()

    def mode(self) -> torch.Tensor:
        return self.mean

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        z = (actions - self.mean) / self.log_std.exp()
        return (-0.5 * z.pow(2) - self.log_std - LOG_SQRT_2PI).sum(-1)

    def entropy(self) -> torch.Tensor:
        return (0.5 + LOG_SQRT_2PI + self.log_std).sum(-1)


def squashed_sample(mean: torch.Tensor, log_std: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``tanh`` of a reparameterised Gaussian sample in [-1, 1], and its log-probability.

    The log-probability includes the change of variables ``log(1 - tanh(u)^2)``, written as
    ``2 (log 2 - u - softplus(-2u))`` for numerical stability (SAC, Haarnoja et al. 2018, app. C).
    """
    gaussian = DiagGaussian(mean, log_std)
    u = gaussian.rsample()
    log_prob = gaussian.log_prob(u) - (2 * (math.log(2) - u - F.softplus(-2 * u))).sum(-1)
    return torch.tanh(u), log_prob
