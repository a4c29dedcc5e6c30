"""Slow learning test: SAC reaches -200 on Pendulum-v1 within 20k steps, dense and 80% pruned."""

from __future__ import annotations

import pytest
import torch

from prunerl.core import PruningConfig
from prunerl.rl.evaluate import evaluate_policy
from prunerl.rl.sac import SAC

torch.set_num_threads(1)


@pytest.mark.slow
@pytest.mark.parametrize("sparsity", [None, 0.8], ids=["dense", "gmp80"])
def test_sac_solves_pendulum(sparsity: float | None) -> None:
    pruning = None
    if sparsity is not None:
        pruning = PruningConfig(
            method="gmp",
            sparsity=sparsity,
            begin_step=4_000,
            end_step=15_000,
            update_every=1000,
            distribution="erk",
        )
    agent = SAC("Pendulum-v1", seed=0, pruning=pruning).learn(20_000)
    returns = evaluate_policy(agent.predict, "Pendulum-v1", episodes=20)
    assert returns.mean() >= -200, f"final return {returns.mean():.1f}"
    if sparsity is not None:
        assert agent.pruner is not None
        assert agent.pruner.sparsity() == pytest.approx(sparsity, abs=0.01)
