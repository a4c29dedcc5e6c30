"""PlainMLP: autograd-free forward/backward that matches autograd bit for bit, or declines."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from prunerl.rl.networks import DuelingQ, mlp
from prunerl.rl.plain_mlp import NumpyForward, PlainMLP


def _grads(net: nn.Module) -> list[torch.Tensor | None]:
    return [None if p.grad is None else p.grad.clone() for p in net.parameters()]


def _same(got: torch.Tensor, want: torch.Tensor, act: str) -> bool:
    """ReLU: the same kernels as autograd, bit for bit; tanh: numpy's within rounding."""
    if act == "relu":
        return torch.equal(got, want)
    return torch.allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("act", ["relu", "tanh"])
@pytest.mark.parametrize("batch", [1, 37, 64])
def test_forward_and_backward_equal_autograd(act: str, batch: int) -> None:
    torch.manual_seed(0)
    net = mlp(5, 3, (32, 16), act=act)
    x, grad_out = torch.randn(batch, 5), torch.randn(batch, 3)
    net(x).backward(grad_out)
    expected = _grads(net)
    net.zero_grad(set_to_none=True)

    plain = PlainMLP.of(net)
    assert plain is not None and plain.accepts(x)
    outputs = plain.forward(x)
    assert _same(outputs[-1], net(x), act)
    plain.backward(outputs, grad_out)
    for got, want in zip(_grads(net), expected, strict=True):
        assert got is not None and want is not None
        assert _same(got, want, act)


def test_backward_accumulates_and_skips_frozen_parameters() -> None:
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(4, 8, bias=False), nn.ReLU(), nn.Linear(8, 2))
    net[2].bias.requires_grad_(False)
    x, g = torch.randn(6, 4), torch.randn(6, 2)
    net(x).backward(g)
    net(x).backward(g)
    expected = _grads(net)
    net.zero_grad(set_to_none=True)
    plain = PlainMLP.of(net)
    assert plain is not None
    for _ in range(2):
        plain.backward(plain.forward(x), g)
    assert net[2].bias.grad is None
    for got, want in zip(_grads(net), expected, strict=True):
        assert (got is None and want is None) or torch.equal(got, want)  # type: ignore[arg-type]


class _SubLinear(nn.Linear):
    pass


@pytest.mark.parametrize(
    "build",
    [
        lambda: DuelingQ(4, 2, (8, 8)),
        lambda: nn.Sequential(nn.Linear(4, 8), nn.ELU(), nn.Linear(8, 2)),
        lambda: nn.Sequential(_SubLinear(4, 8), nn.ReLU(), nn.Linear(8, 2)),
        lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.ReLU(), nn.Linear(8, 2)),
        lambda: nn.Sequential(nn.ReLU(), nn.Linear(4, 2)),
        lambda: nn.Sequential(),
    ],
    ids=["dueling", "elu", "subclass", "double-act", "act-first", "empty"],
)
def test_anything_but_a_plain_stack_is_declined(build) -> None:  # type: ignore[no-untyped-def]
    assert PlainMLP.of(build()) is None


def test_hooks_and_parametrizations_are_declined() -> None:
    net = mlp(4, 2, (8,))
    assert PlainMLP.of(net) is not None
    handle = net[0].register_forward_pre_hook(lambda m, inp: None)
    assert PlainMLP.of(net) is None
    handle.remove()
    handle = net[2].weight.register_hook(lambda g: g)
    assert PlainMLP.of(net) is None
    handle.remove()
    handle = nn.modules.module.register_module_forward_hook(lambda m, i, o: None)
    try:
        assert PlainMLP.of(net) is None
    finally:
        handle.remove()
    assert PlainMLP.of(net) is not None

    class Double(nn.Module):
        def forward(self, w: torch.Tensor) -> torch.Tensor:
            return 2 * w

    parametrize.register_parametrization(net[0], "weight", Double())
    assert PlainMLP.of(net) is None


def test_accepts_only_2d_batches_of_the_weights_dtype() -> None:
    plain = PlainMLP.of(mlp(4, 2, (8,)))
    assert plain is not None
    assert plain.accepts(torch.zeros(3, 4))
    assert not plain.accepts(torch.zeros(4))
    assert not plain.accepts(torch.zeros(3, 4, dtype=torch.float64))
    assert not plain.accepts(torch.zeros(3, 4, device="meta"))


def test_numpy_forward_follows_in_place_updates_and_replaced_tensors() -> None:
    torch.manual_seed(3)
    net = mlp(4, 3, (16, 16), act="tanh")
    plain = PlainMLP.of(net)
    assert plain is not None
    x = torch.randn(5, 4)

    def agrees() -> bool:
        with torch.no_grad():
            want = net(x).numpy()
        return bool(np.allclose(plain.numpy_forward(x.numpy()), want, rtol=1e-5, atol=1e-6))

    assert agrees()
    with torch.no_grad():
        net[0].weight.mul_(-2.0)  # in place: an optimizer step, masks, load_state_dict
    assert agrees()
    net[2].weight = nn.Parameter(torch.randn(16, 16))  # a replaced parameter
    assert agrees()
    net[4].bias.data = torch.randn(3)  # a replaced storage behind the same parameter
    assert agrees()
    assert plain.numpy_forward(x.numpy()[0]).shape == (3,)  # one unbatched observation


def test_current_notices_new_hooks_and_replaced_layers() -> None:
    net = mlp(4, 2, (8,))
    plain = PlainMLP.of(net)
    assert plain is not None and plain.current()
    handle = net[1].register_forward_hook(lambda m, i, o: None)
    assert not plain.current()
    handle.remove()
    assert plain.current()
    net[2] = nn.Linear(8, 2)
    assert not plain.current()
    net.append(nn.ReLU())
    assert PlainMLP.of(net) is not None and not plain.current()


def test_current_notices_a_parametrization_added_later() -> None:
    """A parametrization swaps the layer's class in place and moves its weight away."""
    net = mlp(4, 2, (8,))
    acting = NumpyForward()
    assert acting(net, np.zeros(4, dtype=np.float32)) is not None
    plain = PlainMLP.of(net)
    assert plain is not None
    torch.nn.utils.parametrizations.weight_norm(net[0])
    assert not plain.current() and PlainMLP.of(net) is None
    assert acting(net, np.zeros(4, dtype=np.float32)) is None  # the caller uses the module


def test_cpu_autocast_is_declined() -> None:
    plain = PlainMLP.of(mlp(4, 2, (8,), act="tanh"))
    assert plain is not None
    x = torch.zeros(3, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not plain.accepts(x)
    assert plain.accepts(x)
