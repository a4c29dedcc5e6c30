"""Slow learning test: PPO solves CartPole-v1 within 100k steps, dense and 90% pruned."""

from __future__ import annotations

import pytest
import torch

from prunerl.core import PruningConfig
from prunerl.rl.evaluate import evaluate_policy
from prunerl.rl.ppo import PPO

torch.set_num_threads(1)


@pytest.mark.slow
@pytest.mark.parametrize("sparsity", [None, 0.9], ids=["dense", "gmp90"])
def test_ppo_solves_cartpole(sparsity: float | None) -> None:
    pruning = None
    if sparsity is not None:
        pruning = PruningConfig(
            method="gmp",
            sparsity=sparsity,
            begin_step=10_000,
            end_step=50_000,
            update_every=1000,
            distribution="erk",
        )
    agent = PPO("CartPole-v1", seed=0, pruning=pruning).learn(100_000)
    returns = evaluate_policy(agent.predict, "CartPole-v1", episodes=20)
    assert returns.mean() >= 475, f"final return {returns.mean():.1f}"
    if sparsity is not None:
        assert agent.pruner is not None
        assert agent.pruner.sparsity() == pytest.approx(sparsity, abs=0.01)
