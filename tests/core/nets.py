"""Small networks and a training step shared by the core tests."""

from __future__ import annotations

import itertools

import torch
from torch import nn


def mlp(sizes: tuple[int, ...] = (4, 32, 32, 2), seed: int = 0) -> nn.Sequential:
    """A ReLU MLP with the given layer widths (deterministic init)."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def nature_cnn(channels: int = 4, actions: int = 6, seed: int = 0) -> nn.Sequential:
    """The DQN Nature CNN (Mnih et al. 2015) on 84x84 frames."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(channels, 32, 8, stride=4),
        nn.ReLU(),
        nn.Conv2d(32, 64, 4, stride=2),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(3136, 512),
        nn.ReLU(),
        nn.Linear(512, actions),
    )


def train_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, scale: float = 1.0, batch: int = 16
) -> None:
    """One optimizer step on a random regression loss, with gradients scaled by ``scale``."""
    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    x = torch.randn(batch, first.in_features)
    optimizer.zero_grad()
    loss = scale * model(x).pow(2).mean()
    loss.backward()
    optimizer.step()


def pruned(model: nn.Module) -> dict[str, torch.Tensor]:
    """The masks (``*_mask`` buffers) a pruner left on ``model``, by buffer name."""
    return {n: b.clone() for n, b in model.named_buffers() if n.endswith("_mask")}
