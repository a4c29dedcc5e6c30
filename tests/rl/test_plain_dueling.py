"""PlainDuelingQ: the dueling Q-network without autograd, as DuelingQ and autograd give it."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from prunerl.rl.networks import DuelingQ, mlp
from prunerl.rl.plain_dueling import PlainDuelingQ, plain_q_network
from prunerl.rl.plain_mlp import PlainMLP


def test_forward_and_backward_equal_dueling_q_and_autograd_bitwise() -> None:
    torch.manual_seed(0)
    net = DuelingQ(4, 3, (32, 16))
    x, grad_q = torch.randn(29, 4), torch.randn(29, 3)
    net(x).backward(grad_q)
    expected = [p.grad.clone() for p in net.parameters()]  # type: ignore[union-attr]
    net.zero_grad(set_to_none=True)

    plain = PlainDuelingQ.of(net)
    assert plain is not None and plain.accepts(x)
    outputs = plain.forward(x)
    assert torch.equal(outputs[-1], net(x))
    plain.backward(outputs, grad_q)
    for p, want in zip(net.parameters(), expected, strict=True):
        assert p.grad is not None and torch.equal(p.grad, want)
    with torch.no_grad():
        want_q = net(x).numpy()
    assert np.allclose(plain.numpy_forward(x.numpy()), want_q, rtol=1e-5, atol=1e-6)


def test_views_decline_hooks_and_other_networks() -> None:
    net = DuelingQ(4, 2, (8, 8))
    plain = plain_q_network(net)
    assert isinstance(plain, PlainDuelingQ) and plain.current()
    handle = net.advantage.register_forward_hook(lambda m, i, o: None)
    assert not plain.current() and plain_q_network(net) is None
    handle.remove()
    net.value = nn.Sequential(nn.Linear(8, 1), nn.ELU())
    assert not plain.current() and plain_q_network(net) is None
    assert isinstance(plain_q_network(mlp(4, 2, (8,))), PlainMLP)
    assert plain_q_network(nn.Sequential(nn.Conv2d(1, 2, 3))) is None


def test_streams_of_more_than_one_layer_are_declined() -> None:
    net = DuelingQ(4, 3, (16, 16))
    net.value = mlp(16, 1, (8,))
    assert plain_q_network(net) is None
