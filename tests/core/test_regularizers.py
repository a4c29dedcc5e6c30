"""L1 and group-lasso penalties equal hand computation and push weights toward zero."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from prunerl import group_lasso_penalty, l1_penalty

from .nets import mlp


def fixed_linear() -> nn.Linear:
    layer = nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[3.0, -4.0], [0.0, 1.0]]))
        layer.bias.fill_(100.0)  # biases are not penalised
    return layer


def test_l1_equals_strength_times_sum_of_abs_weights():
    assert l1_penalty(fixed_linear(), strength=0.5).item() == pytest.approx(0.5 * 8)
    model = mlp()
    expected = sum(m.weight.abs().sum().item() for m in model if isinstance(m, nn.Linear))
    assert l1_penalty(model, 1e-3).item() == pytest.approx(1e-3 * expected, rel=1e-6)
    assert l1_penalty([model, fixed_linear()], 1.0).item() == pytest.approx(expected + 8, rel=1e-6)


def test_group_lasso_by_output_neuron_and_by_input_feature():
    layer = fixed_linear()
    rows = math.sqrt(2) * (5.0 + 1.0)  # ||(3, -4)|| = 5, ||(0, 1)|| = 1, each group has 2 weights
    cols = math.sqrt(2) * (3.0 + math.sqrt(17.0))  # ||(3, 0)|| = 3, ||(-4, 1)|| = sqrt(17)
    assert group_lasso_penalty(layer, 0.1).item() == pytest.approx(0.1 * rows)
    assert group_lasso_penalty(layer, 0.1, dim="in").item() == pytest.approx(0.1 * cols)


def test_group_lasso_groups_conv_channels():
    conv = nn.Conv2d(3, 4, 2)
    w = conv.weight.detach()
    out = sum(w[i].norm().item() for i in range(4)) * math.sqrt(3 * 2 * 2)
    inp = sum(w[:, j].norm().item() for j in range(3)) * math.sqrt(4 * 2 * 2)
    assert group_lasso_penalty(conv, 1.0).item() == pytest.approx(out, rel=1e-5)
    assert group_lasso_penalty(conv, 1.0, dim="in").item() == pytest.approx(inp, rel=1e-5)


@pytest.mark.parametrize(
    "penalty", [l1_penalty, group_lasso_penalty, lambda m, s: group_lasso_penalty(m, s, "in")]
)
def test_penalty_gradients_push_weights_toward_zero(penalty):
    model = mlp((6, 16, 3))
    before = [m.weight.detach().clone() for m in model if isinstance(m, nn.Linear)]
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    for _ in range(10):
        opt.zero_grad()
        penalty(model, 1.0).backward()
        opt.step()
    after = [m.weight.detach() for m in model if isinstance(m, nn.Linear)]
    for b, a in zip(before, after, strict=True):
        assert a.abs().sum() < b.abs().sum()
        moved = (a - b) != 0
        assert (torch.sign(a - b)[moved] == -torch.sign(b)[moved]).all()  # every step is toward 0


def test_penalties_reject_models_without_layers_and_bad_dims():
    with pytest.raises(ValueError, match="no Linear/Conv layers"):
        l1_penalty(nn.ReLU())
    with pytest.raises(ValueError, match="no Linear/Conv layers"):
        group_lasso_penalty([nn.Tanh()])
    with pytest.raises(ValueError, match=r"dim must be 'out' or 'in', got 'rows'"):
        group_lasso_penalty(fixed_linear(), dim="rows")
