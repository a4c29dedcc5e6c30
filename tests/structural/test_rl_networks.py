"""The networks prunerl's agents build: cut, exported and run by numpy, outputs unchanged."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from prunerl.rl.networks import DuelingQ, mlp, nature_cnn
from prunerl.rl.policies import GaussianActor, SquashedGaussianActor
from prunerl.runtime import Policy
from prunerl.structural import apply_masks, cut, make_plan
from prunerl.structural.export import to_npz

NETWORKS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], str]] = {
    "dqn_mlp": (lambda: mlp(4, 2), (4,), "argmax"),
    "dqn_nature_cnn": (lambda: nature_cnn(4, 6, feature_dim=128), (4, 84, 84), "argmax"),
    "dueling": (lambda: DuelingQ(8, 4, hidden=(64, 64)), (8,), "argmax"),
    "ppo_gaussian": (lambda: GaussianActor(mlp(3, 2, (64, 64), "tanh"), 2), (3,), "identity"),
    "sac_squashed": (
        lambda: SquashedGaussianActor(3, np.array([-2.0, -1.0]), np.array([2.0, 1.0]), (64, 64)),
        (3,),
        "identity",
    ),
}


@pytest.mark.parametrize("name", list(NETWORKS))
def test_cut_and_export_prunerl_networks(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    build, shape, head = NETWORKS[name]
    model = build()
    x = torch.rand(3, *shape)
    plan = make_plan(model, 0.75, "l2", example=x)
    masked = copy.deepcopy(model)
    apply_masks(masked, plan.groups, plan.masks())
    small = cut(model, plan)
    with torch.no_grad():
        want = masked(x)
        assert float((small(x) - want).abs().max()) <= 1e-5
    assert sum(p.numel() for p in small.parameters()) < 0.5 * sum(
        p.numel() for p in model.parameters()
    )
    policy = Policy.load(to_npz(small, tmp_path / "policy.npz", x, head=head))
    got = policy.act(x.numpy())
    expected = want.argmax(-1).numpy() if head == "argmax" else want.numpy()
    assert np.allclose(got, expected, atol=1e-5)
