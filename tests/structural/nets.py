"""The network shapes structural pruning must handle, small enough for fast tests."""

from __future__ import annotations

import itertools

import torch
from torch import nn


def mlp(sizes: tuple[int, ...] = (4, 32, 32, 2), act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """``nn.Sequential(Linear, act, ..., Linear)`` as prunerl's MLPs are built."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def nature_cnn(channels: int = 3, actions: int = 4, width: int = 16) -> nn.Sequential:
    """The Nature-DQN CNN (8/4, 4/2, 3/1 convs, Flatten, Linear) for 44x44 inputs."""
    return nn.Sequential(
        nn.Conv2d(channels, width, 8, stride=4),
        nn.ReLU(),
        nn.Conv2d(width, 2 * width, 4, stride=2),
        nn.ReLU(),
        nn.Conv2d(2 * width, 2 * width, 3, stride=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * width * 2 * 2, 64),
        nn.ReLU(),
        nn.Linear(64, actions),
    )


class Dueling(nn.Module):
    """Dueling Q network (Wang et al. 2016): shared trunk, value and advantage heads."""

    def __init__(self, obs: int = 4, hidden: int = 32, actions: int = 3) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(obs, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.value = nn.Sequential(nn.ReLU(), nn.Linear(hidden, 16), nn.ReLU(), nn.Linear(16, 1))
        self.advantage = nn.Sequential(nn.ReLU(), nn.Linear(hidden, actions))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x)
        v, a = self.value(h), self.advantage(h)
        return v + a - a.mean(-1, keepdim=True)


class ActorCritic(nn.Module):
    """Actor-critic with a shared trunk and two heads, returning (logits, value)."""

    def __init__(self, obs: int = 6, hidden: int = 32, actions: int = 3) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(obs, hidden), nn.Tanh(), nn.Linear(hidden, hidden))
        self.trunk.append(nn.Tanh())
        self.actor = nn.Linear(hidden, actions)
        self.critic = nn.Sequential(nn.Linear(hidden, 16), nn.Tanh(), nn.Linear(16, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.actor(h), self.critic(h)


class SB3Like(nn.Module):
    """The layout of an SB3 ActorCriticPolicy: extractor, separate pi/vf MLPs, two heads."""

    def __init__(self, obs: int = 5, actions: int = 2) -> None:
        super().__init__()
        self.features_extractor = nn.Flatten()
        self.mlp_extractor = nn.Module()
        self.mlp_extractor.policy_net = mlp((obs, 24, 24), nn.Tanh).append(nn.Tanh())
        self.mlp_extractor.value_net = mlp((obs, 24, 24), nn.Tanh).append(nn.Tanh())
        self.action_net = nn.Linear(24, actions)
        self.value_net = nn.Linear(24, 1)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features_extractor(obs)
        pi = self.mlp_extractor.policy_net(f)
        vf = self.mlp_extractor.value_net(f)
        return self.action_net(pi), self.value_net(vf)


class ResBlock(nn.Module):
    """Impala residual block: x + conv(relu(conv(relu(x))))."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv1(torch.relu(self.conv0(torch.relu(x))))


class ImpalaCNN(nn.Module):
    """Impala CNN (Espeholt et al. 2018): stages of conv, max-pool and two residual blocks."""

    def __init__(self, channels: int = 3, depths: tuple[int, ...] = (8, 16), actions: int = 4):
        super().__init__()
        stages: list[nn.Module] = []
        for depth in depths:
            stages += [
                nn.Conv2d(channels, depth, 3, padding=1),
                nn.MaxPool2d(3, stride=2, padding=1),
                ResBlock(depth),
                ResBlock(depth),
            ]
            channels = depth
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.Flatten(), nn.ReLU(), nn.Linear(channels * 4 * 4, 32), nn.ReLU()
        )
        self.head.append(nn.Linear(32, actions))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(x))


class ResMLPBlock(nn.Module):
    """Pre-norm residual MLP block: x + W2 relu(W1 LayerNorm(x))."""

    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(torch.relu(self.fc1(self.norm(x))))


class ResidualMLP(nn.Module):
    """Linear embedding, residual blocks, then a linear head."""

    def __init__(self, obs: int = 6, width: int = 24, blocks: int = 3, actions: int = 2):
        super().__init__()
        self.embed = nn.Linear(obs, width)
        self.blocks = nn.Sequential(*[ResMLPBlock(width, 32) for _ in range(blocks)])
        self.head = nn.Linear(width, actions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.blocks(self.embed(x))))


def bn_cnn(channels: int = 2, actions: int = 3) -> nn.Sequential:
    """A conv/BatchNorm stack into an MLP with BatchNorm1d and a sigmoid (f(0) != 0)."""
    return nn.Sequential(
        nn.Conv2d(channels, 8, 3),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 3 * 3, 16),
        nn.BatchNorm1d(16),
        nn.Sigmoid(),
        nn.Linear(16, actions),
    )
