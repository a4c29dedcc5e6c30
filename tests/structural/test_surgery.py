"""Cutting: the smaller network computes what the masked one does, and training goes on."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from prunerl.structural import apply_masks, cut, make_plan
from prunerl.structural.soft import NeuronPruner

from .nets import ActorCritic, Dueling, ImpalaCNN, ResidualMLP, SB3Like, bn_cnn, mlp, nature_cnn

CASES = {
    "mlp": (lambda: mlp((4, 64, 64, 2)), (4,)),
    "nature_cnn": (nature_cnn, (3, 44, 44)),
    "dueling": (Dueling, (4,)),
    "actor_critic": (ActorCritic, (6,)),
    "sb3_layout": (SB3Like, (5,)),
    "impala": (ImpalaCNN, (3, 16, 16)),
    "residual_mlp_layernorm": (ResidualMLP, (6,)),
    "batchnorm_sigmoid": (bn_cnn, (2, 8, 8)),
}


def outputs(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    out = model(x)
    return list(out) if isinstance(out, tuple) else [out]


def max_diff(a: nn.Module, b: nn.Module, x: torch.Tensor) -> float:
    with torch.no_grad():
        pairs = zip(outputs(a, x), outputs(b, x), strict=True)
        return max(float((u - v).abs().max()) for u, v in pairs)


def randomise_batch_norm(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2.0)
            nn.init.normal_(m.weight)
            nn.init.normal_(m.bias)


@pytest.mark.parametrize("name", list(CASES))
def test_cut_equals_masked_network(name: str) -> None:
    torch.manual_seed(0)
    build, shape = CASES[name]
    model = build().eval()
    randomise_batch_norm(model)
    x = torch.randn(16, *shape)
    plan = make_plan(model, 0.5, "random", example=x)
    masked = copy.deepcopy(model)
    apply_masks(masked, plan.groups, plan.masks())
    small = cut(model, plan)
    assert max_diff(masked, small, x) <= 1e-5
    before = sum(p.numel() for p in model.parameters())
    after = sum(p.numel() for p in small.parameters())
    assert after < 0.5 * before
    assert max_diff(model, copy.deepcopy(model), x) == 0  # the original is untouched


def test_cut_mlp_has_the_promised_shapes() -> None:
    model = mlp((4, 256, 256, 2))
    small = cut(model, make_plan(model, 0.9, "l1"))
    shapes = [tuple(m.weight.shape) for m in small if isinstance(m, nn.Linear)]
    assert shapes == [(26, 4), (26, 26), (2, 26)]
    assert small[0].out_features == 26 and small[2].in_features == 26


def test_adam_state_is_sliced_and_training_continues_identically() -> None:
    torch.manual_seed(1)
    model = Dueling(hidden=24)
    target = copy.deepcopy(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    pruner = NeuronPruner(model, 0.5, "l2", schedule="one_shot", begin_step=3)
    pruner.attach_optimizer(opt).follow(target)
    x, y = torch.randn(32, 4), torch.randn(32, 3)

    for step in range(6):
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        pruner.step(step)
    masked = copy.deepcopy(model)
    old_moments = {n: opt.state[p]["exp_avg"].clone() for n, p in model.named_parameters()}
    keep = pruner.plan().keep[0].sort().values  # first trunk layer's kept rows
    small = pruner.cut()
    assert all(p in opt.state for p in small.parameters())
    assert {id(p) for g in opt.param_groups for p in g["params"]} == {
        id(p) for p in small.parameters()
    }
    moment = opt.state[small.trunk[0].weight]["exp_avg"]
    assert torch.equal(moment, old_moments["trunk.0.weight"][keep])
    small_target = pruner.cut_follower(target)
    assert [p.shape for p in small_target.parameters()] == [p.shape for p in small.parameters()]
    target.load_state_dict(masked.state_dict())  # a hard target update, then cut the same way
    assert max_diff(pruner.cut_follower(target), small, x) <= 1e-5
    assert max_diff(masked, small, x) <= 1e-5


def test_training_after_the_cut_matches_training_the_masked_network() -> None:
    torch.manual_seed(2)
    model = mlp((4, 32, 32, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = torch.randn(64, 4), torch.randn(64, 3)
    pruner = NeuronPruner(model, 0.5, "l1", schedule="one_shot", begin_step=2).attach_optimizer(opt)

    def step(net: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        loss = ((net(x) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for t in range(4):
        step(model, opt)
        pruner.step(t)
    masked = copy.deepcopy(model)
    masked_opt = torch.optim.Adam(masked.parameters(), lr=1e-2)
    masked_opt.load_state_dict(copy.deepcopy(opt.state_dict()))  # Adam's step is shared else
    masked_pruner = NeuronPruner(masked, 0.5, "l1", schedule="one_shot", begin_step=2)
    masked_pruner.load_state_dict(pruner.state_dict())
    small = pruner.cut()
    for _ in range(5):
        step(small, opt)
        step(masked, masked_opt)
        masked_pruner.apply_masks()
    assert max_diff(masked, small, x) <= 1e-5


def test_sigmoid_constant_is_folded_but_padded_conv_cannot_fold() -> None:
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3),
        nn.Sigmoid(),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.Flatten(),
        nn.Linear(64, 2),
    )
    plan = make_plan(net, 0.5, "random", example=torch.randn(2, 2, 6, 6))
    with pytest.raises(ValueError, match=r"layer '2' reads removed channels whose value is 0.5"):
        cut(net, plan)


def test_bad_requests_are_clear_errors() -> None:
    model = mlp()
    with pytest.raises(ValueError, match=r"sparsity must be in \[0, 1\), got 1.0.*disconnect"):
        make_plan(model, 1.0)
    plan = make_plan(model, 0.5)
    with pytest.raises(ValueError, match=r"names layer '4'.*copies of the network"):
        cut(mlp((4, 32, 32)), plan)
    small = cut(model, plan)
    with pytest.raises(ValueError, match="was it already cut"):
        cut(small, plan)
