from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from prunerl.rl.networks import DuelingQ, mlp
from prunerl.spaces.surgery import cut_input_features, cut_output_units, input_width

KEEP = [0, 3, 4]


def held(x: torch.Tensor, keep: list[int], fill: np.ndarray) -> torch.Tensor:
    """``x`` with every feature not in ``keep`` replaced by its fill value."""
    out = x.clone()
    for j in range(x.shape[1]):
        if j not in keep:
            out[:, j] = float(fill[j])
    return out


def test_cut_linear_inputs_equals_holding_dropped_features_at_fill() -> None:
    torch.manual_seed(0)
    net = mlp(6, 3, (16,))
    fill = np.random.default_rng(0).normal(size=6)
    x = torch.randn(32, 6)
    small = cut_input_features(net, KEEP, fill=fill)
    assert input_width(small) == 3 and input_width(net) == 6  # original untouched
    torch.testing.assert_close(small(x[:, KEEP]), net(held(x, KEEP, fill)))
    zero = cut_input_features(net, KEEP)
    torch.testing.assert_close(zero(x[:, KEEP]), net(held(x, KEEP, np.zeros(6))))


def test_extra_inputs_after_the_features_are_kept() -> None:
    torch.manual_seed(1)
    net = mlp(6 + 2, 1, (8,))  # a SAC-style critic reading [obs, action]
    small = cut_input_features(net, [1, 2], n_features=6)
    x = torch.randn(5, 8)
    x[:, [0, 3, 4, 5]] = 0.0
    torch.testing.assert_close(small(x[:, [1, 2, 6, 7]]), net(x))


def test_cut_conv_channels_with_constant_fill() -> None:
    torch.manual_seed(2)
    net = nn.Sequential(nn.Conv2d(4, 5, 3), nn.ReLU(), nn.Flatten(), nn.Linear(5 * 4 * 4, 2))
    fill = np.array([0.5, -1.0, 2.0, 0.25])
    x = torch.randn(3, 4, 6, 6)
    full = x.clone()
    full[:, 1] = -1.0
    full[:, 2] = 2.0
    small = cut_input_features(net, [0, 3], fill=fill)
    torch.testing.assert_close(small(x[:, [0, 3]]), net(full))


def test_mask_buffers_are_cut_with_the_weight() -> None:
    net = mlp(4, 2, (3,))
    first = net[0]
    first.register_buffer("weight_mask", torch.ones_like(first.weight, dtype=torch.bool))
    small = cut_input_features(net, [1, 2])
    assert small[0].weight_mask.shape == (3, 2)


def test_cut_outputs_keeps_selected_actions() -> None:
    torch.manual_seed(3)
    net = mlp(4, 5, (8,))
    x = torch.randn(10, 4)
    torch.testing.assert_close(cut_output_units(net, [1, 4])(x), net(x)[:, [1, 4]])
    dueling = DuelingQ(4, 5, (8, 8))
    small = cut_output_units(dueling, [0, 2])
    q = dueling(x)
    torch.testing.assert_close(small(x).argmax(1), q[:, [0, 2]].argmax(1))


def test_surgery_bad_input() -> None:
    net = mlp(4, 2, (3,))
    with pytest.raises(ValueError, match="feature mask has length 3"):
        cut_input_features(net, np.array([True, True, False]))
    with pytest.raises(ValueError, match="fill has 2 values"):
        cut_input_features(net, [0], fill=[1.0, 2.0])
    with pytest.raises(ValueError, match="removing every action"):
        cut_output_units(net, [])
    with pytest.raises(ValueError, match="no Linear/Conv"):
        cut_input_features(nn.Sequential(nn.ReLU()), [0])
    no_bias = nn.Sequential(nn.Linear(3, 2, bias=False))
    with pytest.raises(ValueError, match="no bias"):
        cut_input_features(no_bias, [0], fill=[1.0, 1.0, 1.0])


def test_every_input_branch_is_cut() -> None:
    from prunerl.rl.sac import TwinQ

    torch.manual_seed(4)
    critic = TwinQ(5 + 1, (8,), "relu")
    small = cut_input_features(critic, [0, 2], n_features=5)
    obs, act = torch.randn(7, 5), torch.randn(7, 1)
    obs[:, [1, 3, 4]] = 0.0
    for a, b in zip(small(obs[:, [0, 2]], act), critic(obs, act), strict=True):
        torch.testing.assert_close(a, b)
    dueling = DuelingQ(6, 3, (8, 8))  # value/advantage heads read the trunk, not the input
    cut = cut_input_features(dueling, [1, 2])
    assert cut.trunk[0].in_features == 2 and cut.value[0].in_features == 8
