"""The agents' optimizer helpers make exactly the updates of the torch calls they replace."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from prunerl.rl.optim import adam, clip_grad_norm, optimizer_step, zero_grads


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))


def _train(net: nn.Module, opt: torch.optim.Optimizer, step_fn, steps: int = 12) -> None:
    gen = torch.Generator().manual_seed(1)
    for i in range(steps):
        for group in opt.param_groups:  # a decaying learning rate, as the agents set it
            group["lr"] = 1e-2 / (1 + i)
        zero_grads(opt)
        x = torch.randn(16, 4, generator=gen)
        loss = net(x).pow(2).mean() * 100.0
        loss.backward()
        clip_grad_norm(list(net.parameters()), 0.5)
        step_fn(opt)


def _assert_same(a: nn.Module, b: nn.Module, oa: torch.optim.Optimizer, ob: torch.optim.Optimizer):
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
        for key, value in oa.state[pa].items():
            assert torch.equal(value, ob.state[pb][key]), key


@pytest.mark.parametrize("weight_decay", [0.0, 1e-2])
def test_direct_fused_adam_is_bit_identical_to_step(weight_decay: float) -> None:
    a, b = _net(), _net()
    oa = torch.optim.Adam(a.parameters(), lr=1e-2, fused=True, weight_decay=weight_decay)
    ob = torch.optim.Adam(b.parameters(), lr=1e-2, fused=True, weight_decay=weight_decay)
    _train(a, oa, lambda o: o.step())
    _train(b, ob, optimizer_step)
    _assert_same(a, b, oa, ob)
    # and it really moved the weights (the comparison is not between two untouched nets)
    assert not torch.equal(a[0].weight, _net()[0].weight)


def test_a_parameter_without_gradient_is_left_alone_as_by_step() -> None:
    a, b = _net(), _net()
    oa, ob = adam(a.parameters(), lr=1e-2), adam(b.parameters(), lr=1e-2)
    _train(a, oa, lambda o: o.step(), steps=3)
    _train(b, ob, optimizer_step, steps=3)
    for net, opt, fn in ((a, oa, lambda o: o.step()), (b, ob, optimizer_step)):
        zero_grads(opt)
        net(torch.ones(2, 4)).sum().backward()
        net[2].bias.grad = None  # e.g. a frozen or unused parameter this step
        fn(opt)
    _assert_same(a, b, oa, ob)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: torch.optim.Adam(p, lr=1e-2, fused=True, amsgrad=True),
        lambda p: torch.optim.Adam(p, lr=1e-2, foreach=True),
        lambda p: torch.optim.AdamW(p, lr=1e-2, fused=True),
        lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9),
    ],
    ids=["amsgrad", "unfused", "adamw", "sgd"],
)
def test_other_optimizers_go_through_their_own_step(make) -> None:
    a, b = _net(), _net()
    oa, ob = make(a.parameters()), make(b.parameters())
    _train(a, oa, lambda o: o.step())
    _train(b, ob, optimizer_step)
    _assert_same(a, b, oa, ob)


def test_step_hooks_still_run() -> None:
    net = _net()
    opt = adam(net.parameters(), lr=1e-2)
    _train(net, opt, optimizer_step, steps=2)
    calls: list[str] = []
    opt.register_step_pre_hook(lambda *_: calls.append("pre"))
    opt.register_step_post_hook(lambda *_: calls.append("post"))
    _train(net, opt, optimizer_step, steps=2)
    assert calls == ["pre", "post", "pre", "post"]


def test_loaded_state_is_used() -> None:
    a = _net()
    oa = adam(a.parameters(), lr=1e-2)
    _train(a, oa, optimizer_step, steps=3)
    b = copy.deepcopy(a)
    ob = adam(b.parameters(), lr=1e-2)
    ob.load_state_dict(copy.deepcopy(oa.state_dict()))  # load_state_dict shares tensors
    _train(a, oa, lambda o: o.step(), steps=3)
    _train(b, ob, optimizer_step, steps=3)
    _assert_same(a, b, oa, ob)


def test_clip_grad_norm_equals_torch() -> None:
    torch.manual_seed(3)
    grads = [torch.randn(5, 7) * 10, torch.randn(7) * 10]
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    twins = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, t, g in zip(params, twins, grads, strict=True):
        p.grad, t.grad = g.clone(), g.clone()
    clip_grad_norm(params, 1.0)
    nn.utils.clip_grad_norm_(twins, 1.0)
    for p, t in zip(params, twins, strict=True):
        assert torch.equal(p.grad, t.grad)
    total = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in params]))
    assert total == pytest.approx(1.0, rel=1e-5)


def test_zero_grads_drops_every_gradient() -> None:
    net = _net()
    opt = adam(net.parameters(), lr=1e-2)
    net(torch.ones(1, 4)).sum().backward()
    zero_grads(opt)
    assert all(p.grad is None for p in net.parameters())
