"""Criteria prune exactly what they say; lottery tickets rewind survivors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import prunerl
from prunerl import Pruner, PruningConfig

from .nets import mlp, train_step


def feed(pruner: Pruner, layer: nn.Linear, grads: list[torch.Tensor]) -> None:
    """Make the pruner observe the given gradients of ``layer.weight``, one per backward pass."""
    for g in grads:
        layer.weight.grad = g.clone()
        pruner.observe_gradients()


def test_threshold_prunes_exactly_the_weights_below_theta():
    model = mlp()
    weights = [m.weight.detach().abs().clone() for m in model if isinstance(m, nn.Linear)]
    pruner = prunerl.prune(model, method="threshold", criterion_kwargs={"theta": 0.1})
    for w, mask in zip(weights, pruner.masks.values(), strict=True):
        assert torch.equal(mask, w >= 0.1)


def test_gradient_rule_prunes_where_mean_abs_gradient_is_below_c_times_the_layer_mean():
    layer = nn.Linear(6, 5)
    config = PruningConfig(method="gradient_rule", criterion_kwargs={"c": 0.5})
    pruner = Pruner(layer, config)
    torch.manual_seed(0)
    grads = [torch.randn(5, 6) * 3, torch.randn(5, 6), -(torch.randn(5, 6) ** 2)]
    feed(pruner, layer, grads)
    mean_abs = torch.stack([g.abs() for g in grads]).mean(0)
    pruner.update_masks()
    expected = mean_abs >= 0.5 * mean_abs.mean()
    assert torch.equal(pruner.masks["weight"], expected)
    assert 0 < int(expected.sum()) < expected.numel()
    assert not layer.weight[~expected].any()


def test_gradient_keeps_the_largest_mean_abs_gradients():
    layer = nn.Linear(10, 10)
    pruner = Pruner(layer, method="gradient", sparsity=0.7)
    grads = [torch.randn(10, 10) for _ in range(4)]
    feed(pruner, layer, grads)
    pruner.update_masks()
    score = torch.stack([g.abs() for g in grads]).mean(0)
    mask = pruner.masks["weight"]
    assert int(mask.sum()) == 30
    assert score[mask].min() >= score[~mask].max()
    assert pruner.stats is not None and pruner.stats.count == 0  # statistics restart after use


def test_gradient_without_averaging_keeps_the_largest_last_step_gradients():
    layer = nn.Linear(10, 10)
    config = PruningConfig(method="gradient", sparsity=0.7, criterion_kwargs={"average": False})
    pruner = Pruner(layer, config)
    torch.manual_seed(1)
    early, last = torch.randn(10, 10) * 100, torch.randn(10, 10)
    feed(pruner, layer, [early, last])
    twin = Pruner(nn.Linear(10, 10), config)
    twin.load_state_dict(pruner.state_dict())
    pruner.update_masks()
    mask = pruner.masks["weight"]
    assert int(mask.sum()) == 30
    assert last.abs()[mask].min() >= last.abs()[~mask].max()
    mean_mask = (early.abs() + last.abs()).flatten().topk(30).indices
    assert not mask.flatten()[mean_mask].all()  # the large early step does not decide
    # the last gradient survives a save/load round trip (taken before the update used it)
    assert twin.stats is not None and torch.equal(twin.stats.last_abs(0), last.abs())


def test_last_gradient_criterion_never_ranks_a_checkpoint_that_has_no_last_gradient():
    mean_config = PruningConfig(method="gradient", sparsity=0.7)
    last_config = PruningConfig(
        method="gradient", sparsity=0.7, criterion_kwargs={"average": False}
    )
    layer = nn.Linear(10, 10)
    saved = Pruner(layer, mean_config)
    feed(saved, layer, [torch.randn(10, 10) for _ in range(3)])
    twin = Pruner(nn.Linear(10, 10), last_config)
    twin.load_state_dict(saved.state_dict())
    with pytest.raises(RuntimeError, match="needs gradients"):
        twin.update_masks()  # all-zero scores would prune by tie order
    back = Pruner(nn.Linear(10, 10), mean_config)  # and the other way round loads as before
    back.load_state_dict(twin.state_dict())


def test_taylor_keeps_the_largest_mean_abs_weight_times_gradient():
    layer = nn.Linear(10, 10)
    w = layer.weight.detach().clone()
    pruner = Pruner(layer, method="taylor", sparsity=0.5)
    grads = [torch.randn(10, 10) for _ in range(3)]
    feed(pruner, layer, grads)
    pruner.update_masks()
    score = torch.stack([(w * g).abs() for g in grads]).mean(0)
    mask = pruner.masks["weight"]
    assert int(mask.sum()) == 50
    assert score[mask].min() >= score[~mask].max()


@pytest.mark.parametrize("method", ["taylor", "gradient", "gradient_rule"])
def test_gradient_criteria_without_observed_gradients_say_what_to_call(method):
    with pytest.raises(RuntimeError, match=r"observe_gradients\(\)"):
        prunerl.prune(mlp(), method=method)
    pruner = Pruner(mlp(), method=method)
    with pytest.raises(RuntimeError, match=r"after loss.backward\(\)"):
        pruner.observe_gradients()  # no backward pass yet: no .grad


def test_magnitude_and_random_criteria():
    model = mlp()
    pruner = prunerl.prune(model, method="magnitude", sparsity=0.6)
    for t in pruner.targets:
        w = t.param.detach().abs()
        assert t.mask.sum() > 0 and w[t.mask].min() >= w[~t.mask].max()
    a = prunerl.prune(mlp(), method="random", sparsity=0.6, seed=4).masks
    b = prunerl.prune(mlp(), method="random", sparsity=0.6, seed=4).masks
    c = prunerl.prune(mlp(), method="random", sparsity=0.6, seed=5).masks
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("rewind_step", [None, 5])
def test_lottery_rewinds_survivors_to_the_recorded_values(rewind_step):
    model = mlp((4, 64, 64, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    pruner = Pruner(
        model, method="lottery", sparsity=0.8, end_step=40, rounds=2, rewind_step=rewind_step
    ).attach_optimizer(opt)
    snapshot = [t.param.detach().clone() for t in pruner.targets]  # initialisation
    for step in range(41):
        train_step(model, opt)
        changed = pruner.step(step)
        if step == rewind_step:
            snapshot = [t.param.detach().clone() for t in pruner.targets]
        if changed:
            assert step in (20, 40)
            for t, s in zip(pruner.targets, snapshot, strict=True):
                assert torch.equal(t.param[t.mask], s[t.mask])
                assert not t.param[~t.mask].any()
                assert not opt.state[t.param]["exp_avg"].any()  # training restarts clean
    assert pruner.num_updates == 2
    assert pruner.sparsity() == pytest.approx(0.8, abs=1e-3)
    assert pruner.state_dict()["rewind"] is not None


def test_lottery_mask_is_the_top_k_of_the_trained_weights_not_the_initial_ones():
    """The ticket is chosen by the *trained* magnitudes, then survivors rewind to init. Here the
    "trained" weights are fresh random values, so both rankings differ by construction."""
    model = mlp((4, 64, 64, 2))
    pruner = Pruner(model, method="lottery", sparsity=0.75, end_step=10, rounds=1)
    initial = [t.param.detach().clone() for t in pruner.targets]  # the rewind point
    torch.manual_seed(123)
    with torch.no_grad():
        for t in pruner.targets:
            t.param.copy_(torch.randn_like(t.param))
    trained = [t.param.detach().clone() for t in pruner.targets]
    for step in range(11):
        pruner.step(step)
    assert pruner.num_updates == 1
    for t, w0, w1 in zip(pruner.targets, initial, trained, strict=True):
        k = int(t.mask.sum())
        assert k == round(0.25 * t.numel)
        by_trained = torch.zeros(t.numel, dtype=torch.bool)
        by_trained[w1.abs().flatten().topk(k).indices] = True
        by_initial = torch.zeros(t.numel, dtype=torch.bool)
        by_initial[w0.abs().flatten().topk(k).indices] = True
        assert torch.equal(t.mask.flatten(), by_trained), t.name
        assert not torch.equal(by_trained, by_initial)  # the test can tell them apart
        assert torch.equal(t.param[t.mask], w0[t.mask])  # survivors rewound to init
