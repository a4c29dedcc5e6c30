"""The dueling Q-network's forward and backward without the autograd engine.

``DuelingQ`` is three plain MLPs — a trunk and one-layer value and advantage streams — joined
by ``Q = V + A - mean(A)``; :class:`PlainDuelingQ` runs each as a :class:`PlainMLP` and writes
out the join's derivative, so DQN's default network takes the same autograd-free gradient step
as a plain MLP (see ``rl.plain_mlp``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from prunerl.rl.networks import DuelingQ
from prunerl.rl.plain_mlp import PlainMLP, globally_hooked, has_hooks

__all__ = ["PlainDuelingQ", "PlainQ", "plain_q_network", "predict_q"]


class PlainDuelingQ:
    """A ``DuelingQ`` as kernels: outputs are the trunk's, then ``V``, ``A`` and ``Q``."""

    __slots__ = ("advantage", "net", "trunk", "value")

    def __init__(self, net: DuelingQ, trunk: PlainMLP, value: PlainMLP, advantage: PlainMLP):
        self.net, self.trunk, self.value, self.advantage = net, trunk, value, advantage

    @staticmethod
    def of(net: nn.Module) -> PlainDuelingQ | None:
        """The plain view of a ``DuelingQ`` whose trunk is a plain MLP and whose streams are
        one plain ``Linear`` each (as ``DuelingQ`` builds them), else None."""
        if type(net) is not DuelingQ or has_hooks(net) or globally_hooked():
            return None
        parts = [PlainMLP.of(m) for m in (net.trunk, net.value, net.advantage)]
        trunk, value, advantage = parts
        if trunk is None or value is None or advantage is None:
            return None
        if len(value.layers) + len(advantage.layers) != 2 or value.acts[0] or advantage.acts[0]:
            return None  # the backward below takes each stream as one linear map
        return PlainDuelingQ(net, trunk, value, advantage)

    def current(self) -> bool:
        """Still the same parts with no forward hooks since (see ``PlainMLP.current``)."""
        net = self.net
        parts = ((net.trunk, self.trunk), (net.value, self.value), (net.advantage, self.advantage))
        if has_hooks(net) or any(m is not p.net for m, p in parts):
            return False
        return all(p.current() for _, p in parts)

    def accepts(self, x: torch.Tensor) -> bool:
        return self.trunk.accepts(x)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The trunk's outputs (input first), then ``V``, ``A`` and ``Q``, as ``DuelingQ``."""
        outputs = self.trunk.forward(x)
        features = outputs[-1]
        value, adv = self.value.predict(features), self.advantage.predict(features)
        return [*outputs, value, adv, value + adv - adv.mean(dim=-1, keepdim=True)]

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x)[-1]

    @torch.no_grad()
    def backward(self, outputs: list[torch.Tensor], grad: torch.Tensor) -> None:
        """Backpropagate ``grad`` (d loss / d Q) into every trainable parameter's ``.grad``:
        ``dV = sum_a dQ``, ``dA = dQ - mean_a dQ``, the streams' input gradients summed."""
        trunk_outputs = outputs[:-3]
        features = trunk_outputs[-1]
        d_value = grad.sum(-1, keepdim=True)
        d_adv = grad - grad.mean(-1, keepdim=True)
        value_grads, from_value = self.value.gradients([features, outputs[-3]], d_value, True)
        adv_grads, from_adv = self.advantage.gradients([features, outputs[-2]], d_adv, True)
        assert from_value is not None and from_adv is not None
        self.value.accumulate(value_grads)
        self.advantage.accumulate(adv_grads)
        self.trunk.backward(trunk_outputs, from_value + from_adv)

    def numpy_forward(self, x: np.ndarray) -> np.ndarray:
        features = self.trunk.numpy_forward(x)
        adv = self.advantage.numpy_forward(features)
        value = self.value.numpy_forward(features)
        return value + adv - adv.mean(axis=-1, keepdims=True)


PlainQ = PlainMLP | PlainDuelingQ


def plain_q_network(net: nn.Module) -> PlainQ | None:
    """The plain view of a Q-network (a plain MLP or a ``DuelingQ`` of plain MLPs), or None."""
    return PlainDuelingQ.of(net) or PlainMLP.of(net)


@torch.no_grad()
def predict_q(net: nn.Module, x: torch.Tensor, plain: PlainQ | None = None) -> torch.Tensor:
    """``net(x)`` without autograd; a plain Q-network skips the module machinery (``plain``:
    its view when the caller has it already, e.g. once per round of updates)."""
    plain = plain if plain is not None else plain_q_network(net)
    return plain.predict(x) if plain is not None and plain.accepts(x) else net(x)
