from __future__ import annotations

import pytest
import torch
from torch import nn

from prunerl.spaces.group_lasso import InputGroupLasso, shrink_input_groups_

from .helpers import controller_agent


def test_block_soft_threshold() -> None:
    layer = nn.Linear(3, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[3.0, 0.1, 1.0], [4.0, 0.0, 0.0]]))
    shrink_input_groups_(layer, 1.0)
    w = layer.weight.detach()
    torch.testing.assert_close(w[:, 0], torch.tensor([2.4, 3.2]))  # norm 5 -> 4, same direction
    assert w[:, 1].abs().max() == 0.0 and w[:, 2].abs().max() == 0.0  # norm <= tau -> zero
    conv = nn.Conv2d(2, 3, 2)
    with torch.no_grad():
        conv.weight[:, 1].mul_(1e-3)
    shrink_input_groups_(conv, 0.01)
    assert conv.weight[:, 1].abs().max() == 0.0 and conv.weight[:, 0].abs().max() > 0
    with pytest.raises(ValueError, match="tau must be >= 0"):
        shrink_input_groups_(layer, -1.0)


def test_callback_shrinks_online_networks_only() -> None:
    agent = controller_agent(n_distractors=2)
    before = agent.networks["q"][0].weight.detach().clone()
    InputGroupLasso(0.1, n_features=5).on_update(agent, {})
    after = agent.networks["q"][0].weight.detach()
    assert after[:, 2].norm() < before[:, 2].norm() and torch.equal(after[:, 5], before[:, 5])
    assert torch.equal(agent.networks["q_target"][0].weight, before)  # followers copy later
    with pytest.raises(ValueError, match="no network 'actor'"):
        InputGroupLasso(0.1, networks=["actor"]).on_update(agent, {})
    with pytest.raises(ValueError, match="strength must be >= 0"):
        InputGroupLasso(-1.0)
