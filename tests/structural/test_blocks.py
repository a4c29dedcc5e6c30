"""Layer/block pruning: |θ|/|L| > α keeps a layer; residual blocks below go whole."""

from __future__ import annotations

import copy

import pytest
import torch

from prunerl.structural.blocks import find_residual_blocks, layer_ratios, prune_blocks

from .nets import ImpalaCNN, ResidualMLP, mlp


def weaken(block: torch.nn.Module, factor: float = 1e-3) -> None:
    with torch.no_grad():
        for p in block.parameters():
            if p.dim() >= 2:
                p.mul_(factor)


def test_residual_blocks_are_found_in_impala_and_residual_mlp() -> None:
    assert find_residual_blocks(ImpalaCNN()) == ["stages.2", "stages.3", "stages.6", "stages.7"]
    assert find_residual_blocks(ResidualMLP(blocks=3)) == ["blocks.0", "blocks.1", "blocks.2"]
    assert find_residual_blocks(mlp()) == []


def test_weak_block_is_removed_and_equals_zeroing_its_branch() -> None:
    torch.manual_seed(0)
    net = ImpalaCNN()
    weaken(net.stages[3])
    x = torch.randn(4, 3, 16, 16)
    opt = torch.optim.Adam(net.parameters())
    net(x).sum().backward()
    opt.step()
    small, ratios = prune_blocks(net, alpha=0.2, optimizers=[opt])
    decided = {r.name: r for r in ratios}
    assert decided["stages.3"].ratio == 0.0 and not decided["stages.3"].kept
    assert all(decided[b].kept for b in ("stages.2", "stages.6", "stages.7"))
    assert isinstance(small.stages[3], torch.nn.Identity)
    reference = copy.deepcopy(net)
    with torch.no_grad():
        reference.stages[3].conv1.weight.zero_()
        reference.stages[3].conv1.bias.zero_()
    assert torch.allclose(small(x), reference(x), atol=1e-5)
    held = {id(p) for g in opt.param_groups for p in g["params"]}
    assert held == {id(p) for p in small.parameters()}
    assert all(p in opt.state for p in small.parameters())


def test_threshold_zero_measures_density_and_plain_layers_are_only_reported() -> None:
    net = ResidualMLP(blocks=2)
    with torch.no_grad():
        net.blocks[1].fc1.weight[:, : net.blocks[1].fc1.in_features // 2] = 0
    ratios = {r.name: r for r in layer_ratios(net, alpha=0.6, threshold=0.0)}
    fc1, fc2 = net.blocks[1].fc1.weight.numel(), net.blocks[1].fc2.weight.numel()
    assert ratios["blocks.1"].ratio == pytest.approx((fc1 / 2 + fc2) / (fc1 + fc2))
    assert ratios["blocks.0"].ratio == 1.0
    assert not ratios["embed"].removable and ratios["embed"].kept


def test_bad_block_requests() -> None:
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\)"):
        layer_ratios(ResidualMLP(), alpha=1.5)
    with pytest.raises(ValueError, match="not a residual block"):
        prune_blocks(ImpalaCNN(), alpha=0.5, blocks=["stages.0"])
