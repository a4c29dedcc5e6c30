"""Hybrid multi-scale pruning: blocks, neurons and weights in one config, each reported."""

from __future__ import annotations

import pytest
import torch

from prunerl.structural.hybrid import HybridConfig, hybrid_prune

from .nets import ResidualMLP, mlp


def test_blocks_then_neurons_then_weights_each_contribute() -> None:
    torch.manual_seed(0)
    net = ResidualMLP(obs=6, width=24, blocks=3)
    with torch.no_grad():
        for p in net.blocks[1].parameters():
            if p.dim() == 2:
                p.mul_(1e-3)
    config = HybridConfig(block_alpha=0.3, neuron_sparsity=0.5, weight_sparsity=0.8)
    result = hybrid_prune(net, config, observations=torch.randn(32, 6))
    names = [lvl.name for lvl in result.levels]
    assert names == ["dense", "blocks", "neurons", "weights"]
    nonzero = [lvl.cost.params_nonzero for lvl in result.levels]
    assert nonzero[0] > nonzero[1] > nonzero[2] > nonzero[3]
    shares = result.contributions()
    assert all(v > 0 for v in shares.values())
    assert sum(shares.values()) == pytest.approx(1 - nonzero[-1] / nonzero[0])
    assert isinstance(result.model.blocks[1], torch.nn.Identity)
    assert result.model.embed.out_features == 12
    assert result.pruner is not None and result.pruner.sparsity() == pytest.approx(0.8, abs=0.01)
    assert "weights" in result.table() and "removed ['blocks.1']" in result.table()


def test_weights_only_prunes_a_copy_and_moves_the_optimizer() -> None:
    net = mlp((4, 32, 2))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    result = hybrid_prune(net, HybridConfig(weight_sparsity=0.5), optimizers=[opt])
    assert result.model is not net and torch.count_nonzero(net[0].weight) == net[0].weight.numel()
    assert {id(p) for p in opt.param_groups[0]["params"]} == {
        id(p) for p in result.model.parameters()
    }


def test_config_errors() -> None:
    with pytest.raises(ValueError, match="prunes nothing"):
        HybridConfig()
    with pytest.raises(ValueError, match=r"unknown hybrid keys \['neurons'\]"):
        HybridConfig.from_dict({"neurons": 0.5})
