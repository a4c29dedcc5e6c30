"""Decision agreement between a reference and a candidate policy on fixed states."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.distributions import Categorical, Independent, Normal, kl_divergence

from prunerl.evaluation import action_agreement, action_distance, categorical_kl, gaussian_kl


def _identity_q(actions: int) -> nn.Linear:
    layer = nn.Linear(actions, actions, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(actions))
    return layer


def test_identical_modules_agree_fully() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    states = torch.randn(64, 4)
    assert action_agreement(net, net, states) == 1.0
    assert categorical_kl(net, net, states).max == pytest.approx(0.0, abs=1e-12)
    assert action_distance(net, net, states).max == 0.0


def test_constructed_disagreement_fraction() -> None:
    # Reference Q = the state itself, so its greedy action is the argmax column; the candidate
    # always picks action 0. They agree exactly on the 3 of 8 states whose largest entry is first.
    states = torch.tensor(
        [[3, 1, 2], [0, 5, 1], [9, 0, 0], [1, 1, 4], [2, 8, 1], [7, 6, 5], [0, 0, 1], [1, 3, 2]],
        dtype=torch.float32,
    )

    def always_first(s: torch.Tensor) -> torch.Tensor:
        return torch.zeros(s.shape[0], dtype=torch.long)

    assert action_agreement(_identity_q(3), always_first, states) == pytest.approx(3 / 8)


def test_numpy_states_and_action_outputs() -> None:
    states = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 3.0], [5.0, 4.0]])  # float64 for a float32 net

    def greedy(s: torch.Tensor) -> torch.Tensor:
        return s.argmax(dim=-1)

    assert action_agreement(_identity_q(2), greedy, states) == 1.0
    assert action_agreement(greedy, lambda s: 1 - greedy(s), states) == 0.0


def test_dropout_is_off_and_train_mode_restored() -> None:
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(4, 256), nn.Dropout(0.5), nn.Linear(256, 8)).train()
    assert categorical_kl(net, net, torch.randn(32, 4)).max == pytest.approx(0.0, abs=1e-12)
    assert all(m.training for m in net.modules())


def test_action_distance_by_hand() -> None:
    states = torch.zeros(4, 2)
    offsets = torch.tensor([[3.0, 4.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    result = action_distance(lambda s: s, lambda s: s + offsets, states)
    assert (result.mean, result.max, result.n) == (pytest.approx(1.5), 5.0, 4)
    one_dim = action_distance(lambda s: s[:, 0], lambda s: s[:, 0] - 2.0, states)
    assert one_dim.mean == pytest.approx(2.0)


def test_categorical_kl_by_hand_and_against_torch() -> None:
    ref = torch.log(torch.tensor([[0.5, 0.5]]))
    cand = torch.log(torch.tensor([[0.25, 0.75]]))
    states = torch.zeros(1, 1)
    # 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75) = 0.5 ln(4/3)
    result = categorical_kl(lambda s: ref, lambda s: cand, states)
    assert result.mean == pytest.approx(0.5 * math.log(4 / 3))
    gen = torch.Generator().manual_seed(2)
    a, b = torch.randn(50, 5, generator=gen), torch.randn(50, 5, generator=gen)
    expected = kl_divergence(Categorical(logits=a), Categorical(logits=b))
    result = categorical_kl(lambda s: a, lambda s: b, torch.zeros(50, 1))
    assert result.mean == pytest.approx(float(expected.mean()), rel=1e-5)
    assert result.max == pytest.approx(float(expected.max()), rel=1e-5)


def test_gaussian_kl_by_hand_and_against_torch() -> None:
    states = torch.zeros(1, 1)
    # KL(N(0, 1) || N(1, 2^2)) = ln 2 + (1 + 1) / 8 - 1/2
    result = gaussian_kl(
        lambda s: (torch.zeros(1, 1), torch.zeros(1, 1)),
        lambda s: (torch.ones(1, 1), torch.full((1, 1), math.log(2.0))),
        states,
    )
    assert result.mean == pytest.approx(math.log(2.0) - 0.25)
    gen = torch.Generator().manual_seed(3)
    m1, m2 = torch.randn(30, 3, generator=gen), torch.randn(30, 3, generator=gen)
    s1, s2 = torch.randn(30, 3, generator=gen) * 0.3, torch.randn(3, generator=gen) * 0.3
    expected = kl_divergence(
        Independent(Normal(m1, s1.exp()), 1), Independent(Normal(m2, s2.exp()), 1)
    )
    result = gaussian_kl(lambda s: (m1, s1), lambda s: (m2, s2), torch.zeros(30, 2))
    assert result.mean == pytest.approx(float(expected.mean()), rel=1e-5)
    same = gaussian_kl(lambda s: (m1, s1), lambda s: (m1, s1), torch.zeros(30, 2))
    assert same.max == pytest.approx(0.0, abs=1e-12)


def test_bad_input() -> None:
    net = _identity_q(2)
    with pytest.raises(ValueError, match="non-empty batch"):
        action_agreement(net, net, torch.zeros(0, 2))
    with pytest.raises(ValueError, match="differ in shape"):
        action_distance(lambda s: s, lambda s: s[:, :1], torch.zeros(4, 2))
    with pytest.raises(ValueError, match="NaN or inf"):
        action_distance(lambda s: s, lambda s: s * float("nan"), torch.ones(4, 2))
    with pytest.raises(ValueError, match="one output per state"):
        action_distance(lambda s: s, lambda s: s[:2], torch.ones(4, 2))
    with pytest.raises(ValueError, match="mean, log_std"):
        gaussian_kl(lambda s: s, lambda s: s, torch.ones(4, 2))
    with pytest.raises(ValueError, match="does not broadcast"):
        gaussian_kl(lambda s: (s, s), lambda s: (s, torch.zeros(3)), torch.ones(4, 2))
    with pytest.raises(ValueError, match="discrete agreement"):
        action_agreement(lambda s: s[..., None], lambda s: s[..., None], torch.ones(4, 2))
    with pytest.raises(ValueError, match="logits"):
        categorical_kl(lambda s: s[:, 0], lambda s: s[:, 0], torch.ones(4, 2))
