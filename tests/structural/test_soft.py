"""Soft masks during training: gradual, monotone, shared with followers, resumable."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch

from prunerl.structural.soft import NeuronPruner

from .nets import ResidualMLP, mlp


def train_steps(net: torch.nn.Module, opt: torch.optim.Optimizer, pruner: NeuronPruner, n: int):
    x, y = torch.randn(32, 4), torch.randn(32, 2)
    history = []
    for step in range(n):
        loss = ((net(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        pruner.observe_gradients()
        opt.step()
        pruner.step(step)
        history.append(pruner.sparsity())
    return history


def test_gradual_schedule_is_monotone_and_reaches_the_target() -> None:
    torch.manual_seed(0)
    net = mlp((4, 40, 40, 2))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    pruner = NeuronPruner(net, 0.75, "taylor", begin_step=2, end_step=20, update_every=3)
    pruner.attach_optimizer(opt)
    history = train_steps(net, opt, pruner, 25)
    assert history[0] == 0.0 and history[-1] == pytest.approx(0.75)
    assert all(a <= b for a, b in itertools.pairwise(history))
    assert 0.0 < history[8] < 0.75  # gradual, not one shot
    rows = ~pruner.keeps[0]
    assert torch.all(net[0].weight[rows] == 0) and torch.all(net[0].bias[rows] == 0)
    buf = opt.state[net[0].weight]["momentum_buffer"]
    assert torch.all(buf[rows] == 0)


def test_masks_never_revive_and_followers_share_them() -> None:
    torch.manual_seed(1)
    net = mlp((4, 16, 16, 2))
    target = copy.deepcopy(net)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    pruner = NeuronPruner(net, 0.5, "l2", schedule="iterative", begin_step=0, end_step=9, rounds=3)
    pruner.follow(target).attach_optimizer(opt)
    seen = [k.clone() for k in pruner.keeps]
    x, y = torch.randn(16, 4), torch.randn(16, 2)
    for step in range(12):
        loss = ((net(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        pruner.step(step)
        assert all(bool((new <= old).all()) for new, old in zip(pruner.keeps, seen, strict=True))
        seen = [k.clone() for k in pruner.keeps]
    target.load_state_dict({k: v + 1 for k, v in net.state_dict().items()})
    pruner.step(12)
    assert torch.all(target[0].weight[~pruner.keeps[0]] == 0)


def test_state_dict_round_trip_and_wrong_network() -> None:
    net = mlp((4, 16, 16, 2))
    pruner = NeuronPruner(net, 0.5, schedule="one_shot", begin_step=0)
    pruner.step(0)
    other = NeuronPruner(copy.deepcopy(net), 0.5, schedule="one_shot", begin_step=0)
    other.load_state_dict(pruner.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(other.keeps, pruner.keeps, strict=True))
    assert other.last_step == 0 and other.sparsity() == pytest.approx(0.5)
    wrong = NeuronPruner(mlp((4, 8, 2)), 0.5, schedule="one_shot")
    with pytest.raises(ValueError, match="load it into the architecture"):
        wrong.load_state_dict(pruner.state_dict())


def test_layer_norm_group_is_masked_exactly_like_the_cut() -> None:
    torch.manual_seed(2)
    net = ResidualMLP(obs=4, width=16, blocks=2)
    x = torch.randn(8, 4)
    pruner = NeuronPruner(net, 0.5, "random", schedule="one_shot", example=x)
    pruner.step(0)
    small = pruner.cut()
    assert small.embed.out_features == 8 and small.blocks[0].norm.normalized_shape == (8,)
    assert torch.allclose(small(x), net(x), atol=1e-5)
    assert not any(n.endswith("prunerl_feature_mask") for n, _ in small.named_buffers())
    assert not any(m._forward_hooks for m in small.modules())


def test_bad_settings_are_clear() -> None:
    with pytest.raises(ValueError, match="needs end_step"):
        NeuronPruner(mlp(), 0.5)
    with pytest.raises(ValueError, match="disconnect"):
        NeuronPruner(mlp(), 1.0, schedule="one_shot")
    with pytest.raises(ValueError, match="no neurons that can be removed"):
        NeuronPruner(torch.nn.Linear(4, 2), 0.5, schedule="one_shot")
