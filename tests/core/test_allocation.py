"""Exact sparsity for layer and global scope, uniform and ERK; global vs layer-wise ranking."""

from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import prunerl
from prunerl.core.allocation import global_masks, keep_count, layer_masks
from prunerl.core.distributions import erk
from prunerl.core.targets import select_targets

from .nets import mlp, pruned

# random tiny layers at high sparsity can lose every weight; that warning is tested on its own
pytestmark = pytest.mark.filterwarnings("ignore:pruning removed every weight")

shapes = st.lists(
    st.tuples(st.integers(1, 40), st.integers(1, 40))
    | st.tuples(st.integers(1, 8), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)),
    min_size=1,
    max_size=4,
)
sparsities = st.floats(0.0, 0.99, allow_nan=False)
fast = settings(max_examples=60, deadline=None)


def layers_of(shape_list: list[tuple[int, ...]], seed: int = 0) -> nn.ModuleList:
    """Unconnected Linear/Conv2d layers with the given weight shapes (no forward needed)."""
    torch.manual_seed(seed)
    mods: list[nn.Module] = []
    for shape in shape_list:
        if len(shape) == 2:
            mods.append(nn.Linear(shape[1], shape[0]))
        else:
            mods.append(nn.Conv2d(shape[1], shape[0], (shape[2], shape[3])))
    return nn.ModuleList(mods)


def kept(model: nn.Module) -> list[int]:
    return [int(m.weight_mask.sum()) for m in model.modules() if hasattr(m, "weight_mask")]


@fast
@given(shapes, sparsities)
def test_layer_scope_hits_each_layer_within_one_weight(shape_list, s):
    model = layers_of(shape_list)
    prunerl.prune(model, sparsity=s, scope="layer")
    for m, k in zip(model, kept(model), strict=True):
        n = m.weight.numel()
        assert abs(k - (1 - s) * n) <= 0.5 + 1e-9
        assert int(torch.count_nonzero(m.weight)) <= k  # pruned weights are exactly 0


@fast
@given(shapes, sparsities)
def test_global_scope_hits_the_total_within_one_weight(shape_list, s):
    model = layers_of(shape_list)
    pruner = prunerl.prune(model, sparsity=s, scope="global")
    total = sum(m.weight.numel() for m in model)
    assert abs(sum(kept(model)) - (1 - s) * total) <= 0.5 + 1e-9
    assert pruner.sparsity() == pytest.approx(1 - sum(kept(model)) / total)


@fast
@given(shapes, sparsities)
def test_global_keeps_the_largest_magnitudes_overall(shape_list, s):
    model = layers_of(shape_list)
    prunerl.prune(model, sparsity=s, scope="global")
    weights = torch.cat([m.weight.detach().abs().reshape(-1) for m in model])
    masks = torch.cat([m.weight_mask.reshape(-1) for m in model])
    if masks.any() and (~masks).any():
        assert weights[masks].min() >= weights[~masks].max()


@fast
@given(shapes, sparsities)
def test_erk_keeps_as_many_weights_as_uniform_and_small_layers_denser(shape_list, s):
    uniform_model, erk_model = layers_of(shape_list), layers_of(shape_list)
    prunerl.prune(uniform_model, sparsity=s)
    prunerl.prune(erk_model, sparsity=s, distribution="erk")
    assert abs(sum(kept(erk_model)) - sum(kept(uniform_model))) <= len(shape_list)
    targets = select_targets({"": erk_model})
    density = [1 - x for x in erk(targets, s)]
    raw = [sum(t.mask.shape) / t.numel for t in targets]
    for i in range(len(targets)):
        for j in range(len(targets)):
            if raw[i] >= raw[j]:  # ERK's score: denser (or equally dense) when the score is higher
                assert density[i] >= density[j] - 1e-9


def test_erk_on_an_mlp_makes_the_big_layer_sparser():
    model = mlp((4, 256, 256, 2))
    pruner = prunerl.prune(model, sparsity=0.9, distribution="erk")
    layer = pruner.layer_sparsity()
    assert layer["2.weight"] > 0.9 > layer["0.weight"]
    assert layer["4.weight"] < 0.9
    assert pruner.sparsity() == pytest.approx(0.9, abs=2 / sum(t.numel for t in pruner.targets))


def test_global_prunes_a_layer_of_tiny_weights_more_than_layerwise():
    def build() -> nn.Sequential:
        model = mlp((8, 64, 64, 4))
        with torch.no_grad():
            model[2].weight.mul_(1e-3)  # a layer whose weights are all tiny
        return model

    layerwise, global_ = build(), build()
    prunerl.prune(layerwise, sparsity=0.8, scope="layer")
    prunerl.prune(global_, sparsity=0.8, scope="global")
    assert [int(m.sum()) for m in pruned(layerwise).values()] == [102, 819, 51]
    # one ranking: the 512 + 256 normal weights all rank above every tiny one
    k = round(0.2 * (512 + 4096 + 256))
    assert [int(m.sum()) for m in pruned(global_).values()] == [512, k - 768, 256]


def test_allocation_never_revives_a_pruned_weight():
    scores = [torch.arange(10.0)]
    mask = [torch.tensor([True] * 5 + [False] * 5)]  # the highest scores are already pruned
    assert layer_masks(scores, mask, [0.2])[0].sum() == 5  # cannot go denser than the mask
    assert not (global_masks(scores, mask, 0.7)[0] & ~mask[0]).any()
    assert keep_count(10, 0.25) == round(7.5)


def test_a_layer_pruned_away_by_global_ranking_is_warned_about() -> None:
    """Global magnitude on 4-256-2 empties the small-weight output head (layer collapse)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 256), nn.ReLU(), nn.Linear(256, 2))
    with pytest.warns(RuntimeWarning, match=r"every weight of 2\.weight.*layer collapse"):
        prunerl.prune(model, sparsity=0.9, method="magnitude", scope="global")
    assert not model[2].weight.any()
    layered = nn.Sequential(nn.Linear(4, 256), nn.ReLU(), nn.Linear(256, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prunerl.prune(layered, sparsity=0.9, method="magnitude")
    assert layered[2].weight.any()


def test_erk_densities_are_exact_on_hand_computed_networks():
    """ERK by hand (Evci et al. 2020): density_l = eps * (sum of l's dims) / numel_l, eps set
    so the kept total is (1 - s) of all weights; layers that would exceed 1 are dense and eps
    is re-solved over the rest."""
    # 4-256-256-2 at 90%: eps = 0.1 * 67072 / (260 + 512 + 258) = 6.51 makes the first and last
    # layers exceed 1; the middle keeps what is left, (6707.2 - 1024 - 512) / 65536.
    targets = select_targets({"": mlp((4, 256, 256, 2))})
    middle = 1.0 - (0.1 * 67072 - 1024 - 512) / 65536
    assert erk(targets, 0.9) == pytest.approx([0.0, middle, 0.0], abs=1e-12)
    assert middle == pytest.approx(0.92109, abs=1e-5)
    # 64-256-128-8 at 90%: nothing saturates; eps = 0.1 * 50176 / (320 + 384 + 136)
    targets = select_targets({"": mlp((64, 256, 128, 8))})
    eps = 0.1 * 50176 / 840
    expected = [1 - eps * 320 / 16384, 1 - eps * 384 / 32768, 1 - eps * 136 / 1024]
    assert erk(targets, 0.9) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx([0.883333, 0.93, 0.206667], abs=1e-6)


def test_erk_density_ratios_follow_the_kernel_formula_for_convolutions():
    """Between layers that are not dense, density ratios are ratios of (sum of dims) / numel,
    kernel dims included for convolutions; a wrong power or a missing kernel term breaks them."""
    model = nn.ModuleList([nn.Conv2d(4, 32, 8), nn.Conv2d(32, 64, 4), nn.Linear(3136, 512)])
    targets = select_targets({"": model})
    density = [1 - s for s in erk(targets, 0.9)]
    score = [(32 + 4 + 8 + 8) / 8192, (64 + 32 + 4 + 4) / 32768, (512 + 3136) / 1605632]
    assert all(0.0 < d < 1.0 for d in density)
    for i in range(3):
        for j in range(3):
            assert density[i] / density[j] == pytest.approx(score[i] / score[j], rel=1e-9)
    sizes = [8192, 32768, 1605632]
    assert sum(d * n for d, n in zip(density, sizes, strict=True)) == pytest.approx(
        0.1 * sum(sizes), rel=1e-12
    )
