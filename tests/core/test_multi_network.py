"""Several networks pruned together: per-network targets, patterns, followers, prune()."""

from __future__ import annotations

import pytest
import torch

import prunerl
from prunerl import Pruner

from .nets import mlp, train_step


def networks() -> dict[str, torch.nn.Module]:
    return {"actor": mlp((8, 64, 64, 2), seed=0), "critic": mlp((8, 64, 64, 1), seed=1)}


def network_sparsity(pruner: Pruner, network: str) -> float:
    chosen = [t for t in pruner.targets if t.network == network]
    return 1 - sum(t.nonzero for t in chosen) / sum(t.numel for t in chosen)


@pytest.mark.filterwarnings("ignore:pruning removed every weight")  # tiny layers, any sparsity
@pytest.mark.parametrize("scope", ["layer", "global"])
def test_per_network_targets_land_on_each_network(scope):
    nets = networks()
    optimizers = [torch.optim.Adam(n.parameters(), lr=1e-3) for n in nets.values()]
    pruner = Pruner(
        nets,
        method="gmp",
        sparsity={"actor": 0.95, "critic": 0.8},
        scope=scope,
        end_step=50,
        update_every=10,
    )
    for opt in optimizers:
        pruner.attach_optimizer(opt)
    for step in range(60):
        for net, opt in zip(nets.values(), optimizers, strict=True):
            train_step(net, opt)
        pruner.step(step)
    assert network_sparsity(pruner, "actor") == pytest.approx(0.95, abs=2e-3)
    assert network_sparsity(pruner, "critic") == pytest.approx(0.8, abs=2e-3)
    if scope == "layer":
        for name, s in pruner.layer_sparsity().items():
            n = pruner.masks[name].numel()
            target = 0.95 if name.startswith("actor") else 0.8
            assert abs(s - target) * n <= 0.5 + 1e-6


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_prune_one_liner_honours_dict_targets_in_both_scopes(scope):
    model = torch.nn.ModuleDict(networks())
    pruner = prunerl.prune(model, sparsity={"actor": 0.9, "critic": 0.5}, scope=scope)
    for network, target in (("actor", 0.9), ("critic", 0.5)):
        chosen = [t for t in pruner.targets if t.name.startswith(network)]
        kept = sum(t.nonzero for t in chosen)
        total = sum(t.numel for t in chosen)
        assert abs(kept - (1 - target) * total) <= len(chosen) * 0.5 + 1e-6
    assert not pruner.step(1)  # a one-shot prune leaves no update point behind


def test_patterns_claim_parameters_in_order_and_unclaimed_ones_stay_dense():
    nets = networks()
    pruner = prunerl.prune(nets, sparsity={"actor.0.*": 0.5, "actor": 0.9})
    layer = pruner.layer_sparsity()
    assert set(layer) == {"actor.0.weight", "actor.2.weight", "actor.4.weight"}
    assert layer["actor.0.weight"] == pytest.approx(0.5, abs=1e-3)
    assert layer["actor.2.weight"] == pytest.approx(0.9, abs=1e-3)
    assert all(bool(p.all()) for p in nets["critic"].parameters() if p.dim() > 1)


def test_exclude_first_and_last_apply_per_network():
    pruner = Pruner(networks(), exclude_first=True, exclude_last=True, prune_bias=True)
    assert [t.name for t in pruner.targets] == [
        "actor.2.weight",
        "actor.2.bias",
        "critic.2.weight",
        "critic.2.bias",
    ]
    excluded = Pruner(networks(), exclude=["*.bias", "critic"], prune_bias=True)
    assert [t.name for t in excluded.targets] == [
        "actor.0.weight",
        "actor.2.weight",
        "actor.4.weight",
    ]


def test_online_and_target_networks_share_masks():
    online = mlp()
    target = mlp(seed=9)
    target.load_state_dict(online.state_dict())
    pruner = Pruner({"q": online}, method="gmp", sparsity=0.7, end_step=30, update_every=10)
    pruner.follow(target, source="q")
    opt = torch.optim.SGD(online.parameters(), lr=1e-2)
    for step in range(31):
        train_step(online, opt)
        pruner.step(step)
        if step % 10 == 0:
            target.load_state_dict(online.state_dict())  # hard update, as in DQN
    for name, mask in pruner.masks.items():
        assert torch.equal(target.get_buffer(name.removeprefix("q.") + "_mask"), mask)
        assert not target.get_parameter(name.removeprefix("q."))[~mask].any()
    assert pruner.sparsity() == pytest.approx(0.7, abs=1e-2)
    # the copy above hides whether the pruner masks the target itself: fill it with ones,
    # step, and its pruned entries must be zero again (the kept ones untouched)
    with torch.no_grad():
        for p in target.parameters():
            p.fill_(1.0)
    pruner.step(31)
    for name, mask in pruner.masks.items():
        weight = target.get_parameter(name.removeprefix("q."))
        assert not weight[~mask].any() and bool((weight[mask] == 1.0).all())
