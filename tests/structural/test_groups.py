"""Grouping: which channels shrink together, on every network shape prunerl meets."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from prunerl.structural import UnsupportedLayerError, find_groups

from .nets import ActorCritic, Dueling, ImpalaCNN, ResidualMLP, bn_cnn, mlp, nature_cnn


def members(groups, name):
    group = next(g for g in groups if g.name == name)
    return {(m.module, m.role, m.repeat) for m in group.members}, group


def test_mlp_pairs_rows_with_next_columns_and_pins_the_output() -> None:
    groups = find_groups(mlp((4, 8, 6, 2)))
    first, g = members(groups, "0")
    assert first == {("0", "out", 1), ("2", "in", 1)} and g.size == 8 and g.prunable
    _, out = members(groups, "4")
    assert not out.prunable and out.pinned == "network output"


def test_conv_channels_reach_the_first_linear_through_flatten() -> None:
    groups = find_groups(nature_cnn(), torch.randn(2, 3, 44, 44))
    last_conv, g = members(groups, "4")
    assert last_conv == {("4", "out", 1), ("7", "in", 4)}  # 2x2 positions per channel
    assert g.size == 32


def test_dueling_trunk_feeds_both_heads_and_heads_stay_whole() -> None:
    groups = find_groups(Dueling())
    trunk, _ = members(groups, "trunk.2")
    assert trunk == {("trunk.2", "out", 1), ("value.1", "in", 1), ("advantage.1", "in", 1)}
    assert not members(groups, "advantage.1")[1].prunable
    assert not members(groups, "value.3")[1].prunable


def test_actor_critic_shared_trunk() -> None:
    groups = find_groups(ActorCritic())
    trunk, g = members(groups, "trunk.2")
    assert {("actor", "in", 1), ("critic.0", "in", 1)} <= trunk and g.prunable


def test_residual_stream_is_one_group_across_blocks() -> None:
    groups = find_groups(ImpalaCNN(), torch.randn(2, 3, 16, 16))
    stream = next(g for g in groups if g.name.startswith("stages.0+"))
    outs = {m.module for m in stream.by_role("out")}
    assert outs == {"stages.0", "stages.2.conv1", "stages.3.conv1"}
    readers = {m.module for m in stream.by_role("in")}
    assert readers == {"stages.2.conv0", "stages.3.conv0", "stages.4"}
    inner, _ = members(groups, "stages.2.conv0")
    assert inner == {("stages.2.conv0", "out", 1), ("stages.2.conv1", "in", 1)}


def test_norm_layers_join_their_features() -> None:
    groups = find_groups(ResidualMLP(blocks=2))
    stream = next(g for g in groups if "embed" in g.name)
    assert {m.module for m in stream.by_role("feature")} == {"blocks.0.norm", "blocks.1.norm"}
    assert {m.module for m in stream.by_role("out")} == {"embed", "blocks.0.fc2", "blocks.1.fc2"}
    bn = find_groups(bn_cnn(), torch.randn(2, 2, 8, 8))
    first, _ = members(bn, "0")
    assert first == {("0", "out", 1), ("1", "feature", 1), ("5", "in", 9)}


class Concat(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.head = nn.Linear(4, 8), nn.Linear(4, 8), nn.Linear(16, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.a(x), self.b(x)], dim=-1))


def test_unknown_operations_pin_their_channels_instead_of_guessing() -> None:
    groups = find_groups(Concat())
    a = members(groups, "a")[1]
    assert not a.prunable and "cat" in (a.pinned or "")


def test_unsupported_layer_is_an_error_naming_it_and_opaque_keeps_it_whole() -> None:
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3, groups=8), nn.Flatten())
    with pytest.raises(UnsupportedLayerError, match=r"layer '2' \(Conv2d\).*groups=8.*opaque"):
        find_groups(net, torch.randn(2, 3, 8, 8))
    example = torch.randn(2, 4)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.GRUCell(8, 8), nn.Linear(8, 2))
    with pytest.raises(UnsupportedLayerError, match="GRUCell"):
        find_groups(net, example)
    groups = find_groups(net, example, opaque=["2"])
    assert not members(groups, "0")[1].prunable


def test_conv_model_needs_an_example() -> None:
    with pytest.raises(ValueError, match="pass example="):
        find_groups(nature_cnn())
