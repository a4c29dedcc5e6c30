"""Layer/block pruning: |θ|/|L| > α keeps a layer; residual blocks below go whole."""

from __future__ import annotations

import copy

import pytest
import torch

from prunerl.structural.blocks import (
    find_residual_blocks,
    global_threshold,
    layer_ratios,
    prune_blocks,
)

from .nets import ImpalaCNN, ResidualMLP, ResMLPBlock, mlp


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


@pytest.mark.parametrize("below", [0.0, 1e-9, 0.1])
def test_a_block_exactly_at_alpha_goes_and_one_just_above_stays(below: float) -> None:
    """The rule is ``ratio > alpha``: a block whose ratio equals α is removed, the same block
    with α a hair (or more) lower is kept, and a dense block is kept either way."""
    net = ResidualMLP(blocks=2)
    block = net.blocks[1]
    with torch.no_grad():
        block.fc1.weight.zero_()
        block.fc2.weight[:, : block.fc2.in_features // 2] = 0.0
    ratio = (block.fc2.weight.numel() / 2) / (block.fc1.weight.numel() + block.fc2.weight.numel())
    assert ratio == 0.25  # exactly representable: the comparison below is exact
    alpha = ratio - below
    small, ratios = prune_blocks(net, alpha=alpha, threshold=0.0)
    decided = {r.name: r for r in ratios}
    assert decided["blocks.1"].ratio == ratio
    assert decided["blocks.1"].kept is (below > 0.0)
    assert isinstance(small.blocks[1], torch.nn.Identity) is (below == 0.0)
    assert decided["blocks.0"].kept and not isinstance(small.blocks[0], torch.nn.Identity)


@pytest.mark.parametrize("quantile", [0.1, 0.25, 0.5, 0.9])
def test_the_global_threshold_is_the_quantile_of_all_weight_magnitudes(quantile: float) -> None:
    """τ is the smallest |w| with more than ``quantile`` of all weights at or below it; biases
    (here larger than every weight) are not counted."""
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Linear(5, 2))
    values = torch.randperm(30, generator=torch.Generator().manual_seed(0)).float() + 1
    signs = torch.where(torch.arange(30) % 3 == 0, -1.0, 1.0)
    with torch.no_grad():
        net[0].weight.copy_((values[:20] * signs[:20]).view(5, 4))
        net[1].weight.copy_((values[20:] * signs[20:]).view(2, 5))
        net[0].bias.fill_(1e3)
        net[1].bias.fill_(-1e3)
    tau = global_threshold(net, quantile)
    assert int((values < tau).sum()) <= quantile * 30 < int((values <= tau).sum())
    ratios = {r.name: r.ratio for r in layer_ratios(net, alpha=0.0, quantile=quantile)}
    above = [int((values[:20] > tau).sum()) / 20, int((values[20:] > tau).sum()) / 10]
    assert [ratios["0"], ratios["1"]] == above


class NestedResidual(torch.nn.Module):
    """``x + fc(inner(x))`` where ``inner`` is itself a residual block."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = ResMLPBlock(6, 8)
        self.fc = torch.nn.Linear(6, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc(self.inner(x))


def test_only_the_outermost_of_nested_residual_blocks_is_a_block() -> None:
    """Removing an inner block and then its outer one (or ranking them separately) would count
    the inner weights twice; the outer block holds them."""
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), NestedResidual(), torch.nn.Linear(6, 2))
    assert find_residual_blocks(net) == ["1"]
    assert find_residual_blocks(net[1]) == ["inner"]  # on its own, the inner one is found
