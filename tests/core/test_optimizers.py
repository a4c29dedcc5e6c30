"""Pruned weights stay exactly 0 under every common optimizer; their state is zeroed on update."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from prunerl import Pruner

from .nets import mlp, train_step

OPTIMIZERS: dict[str, Callable[[list[nn.Parameter]], torch.optim.Optimizer]] = {
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=1e-5, momentum=0.9, nesterov=True),
    "adam": lambda p: torch.optim.Adam(p, lr=1e-2),
    "adamw": lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=1e-3, momentum=0.9, centered=True),
}


def state_tensors(opt: torch.optim.Optimizer, p: torch.Tensor) -> list[torch.Tensor]:
    return [v for v in opt.state[p].values() if torch.is_tensor(v) and v.shape == p.shape]


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_pruned_weights_stay_zero_for_200_steps_with_large_gradients(name):
    torch.manual_seed(0)
    model = mlp((4, 64, 64, 2))
    opt = OPTIMIZERS[name](list(model.parameters()))
    pruner = Pruner(model, method="gmp", sparsity=0.9, end_step=100, update_every=25)
    pruner.attach_optimizer(opt)
    for step in range(200):
        train_step(model, opt, scale=1e4)
        changed = pruner.step(step)
        for t in pruner.targets:
            assert not t.param[~t.mask].any(), f"{t.name} revived at step {step}"
            if changed:  # momentum and moments of pruned weights are zeroed at an update
                for state in state_tensors(opt, t.param):
                    assert not state[~t.mask].any()
    assert pruner.sparsity() == pytest.approx(0.9, abs=1e-3)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_attach_optimizer_zeroes_existing_state_of_pruned_weights():
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        train_step(model, opt)
    pruner = Pruner(model, method="magnitude", sparsity=0.5)
    pruner.step(0)
    t = pruner.targets[0]
    assert any(s[~t.mask].any() for s in state_tensors(opt, t.param))  # not attached yet
    pruner.attach_optimizer(opt)
    for t in pruner.targets:
        for state in state_tensors(opt, t.param):
            assert not state[~t.mask].any()
            assert state[t.mask].any()  # survivors keep their moments


def test_rewind_zeroes_optimizer_state_and_keeps_pruned_at_zero():
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    pruner = Pruner(model, method="magnitude", sparsity=0.5).attach_optimizer(opt)
    pruner.record_rewind_point()
    for step in range(5):
        train_step(model, opt)
        pruner.step(step)
    pruner.rewind()
    for t in pruner.targets:
        assert all(not s.any() for s in state_tensors(opt, t.param))
        assert not t.param[~t.mask].any()
