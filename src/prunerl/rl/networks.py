"""Network builders shared by the agents: MLPs, the Nature-CNN, dueling Q and policy heads.

Everything is plain ``nn.Sequential`` where possible so structural pruning can cut it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU}


def activation(name: str) -> type[nn.Module]:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def mlp(
    in_dim: int,
    out_dim: int,
    hidden: Sequence[int] = (256, 256),
    act: str = "relu",
    out_gain: float | None = None,
) -> nn.Sequential:
    """``Linear -> act -> ... -> Linear``; ``out_gain``: orthogonal init of the last layer."""
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers += [nn.Linear(width, h), activation(act)()]
        width = h
    layers.append(nn.Linear(width, out_dim))
    if out_gain is not None:
        last = layers[-1]
        assert isinstance(last, nn.Linear)
        nn.init.orthogonal_(last.weight, out_gain)
        nn.init.zeros_(last.bias)
    return nn.Sequential(*layers)


def orthogonal_init(net: nn.Module, gain: float = 2**0.5) -> nn.Module:
    """Orthogonal weights and zero biases for every Linear/Conv (the PPO convention)."""
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.orthogonal_(m.weight, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net


def orthogonal_mlp(
    in_dim: int, out_dim: int, hidden: Sequence[int], act: str, out_gain: float
) -> nn.Sequential:
    """An MLP with orthogonal init (gain √2, zero biases) and a last layer of gain ``out_gain``
    (the PPO convention: 0.01 for the policy head, 1 for the value head)."""
    net = mlp(in_dim, out_dim, hidden, act)
    orthogonal_init(net)
    last = net[-1]
    assert isinstance(last, nn.Linear)
    nn.init.orthogonal_(last.weight, out_gain)
    return net


class ChannelsFirst(nn.Module):
    """``(N, H, W, C) -> (N, C, H, W)``: channels-last images into a Conv2d stack."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 3, 1, 2)


def nature_cnn(
    in_channels: int, out_dim: int, feature_dim: int = 512, channels_last: bool = False
) -> nn.Sequential:
    """The DQN Nature-CNN (Mnih et al. 2015) for 84x84 inputs, as one Sequential;
    ``channels_last``: it takes (N, H, W, C) images (a :class:`ChannelsFirst` in front)."""
    front: list[nn.Module] = [ChannelsFirst()] if channels_last else []
    return nn.Sequential(
        *front,
        nn.Conv2d(in_channels, 32, 8, stride=4),
        nn.ReLU(),
        nn.Conv2d(32, 64, 4, stride=2),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, feature_dim),
        nn.ReLU(),
        nn.Linear(feature_dim, out_dim),
    )


class DuelingQ(nn.Module):
    """Dueling Q-network (Wang et al. 2016): ``Q = V + A - mean(A)`` over a shared trunk."""

    def __init__(self, in_dim: int, n_actions: int, hidden: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        *trunk_sizes, head = list(hidden)
        self.trunk = mlp(in_dim, head, trunk_sizes)
        self.trunk.append(nn.ReLU())
        self.value = mlp(head, 1, ())
        self.advantage = mlp(head, n_actions, ())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        features = self.trunk(obs)
        adv = self.advantage(features)
        return self.value(features) + adv - adv.mean(dim=-1, keepdim=True)
