"""DQN learns CartPole-v1 in 50k env steps with prunerl's defaults, dense and pruned to 90%.

The final policy of each run (not the best one seen) is evaluated on 20 deterministic episodes.
Two seeds per variant run in two processes. DQN is chaotic: another CPU's float rounding can
change a seed's outcome, and the 5-seed benchmark solves 5/5 dense and 4/5 pruned seeds
(docs/benchmarks.md), so each variant must solve at least one of its two seeds, and average
clearly above the collapse level.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import torch

from prunerl.core import PruningConfig
from prunerl.rl import evaluate_policy
from prunerl.rl.dqn import DQN

GMP90 = dict(method="gmp", sparsity=0.9, begin_step=10_000, end_step=37_500, update_every=1000)
SEEDS = (1, 2)


def final_return(seed: int, pruned: bool) -> tuple[float, float]:
    """Mean final return over 20 episodes and the final sparsity of one 50k-step run."""
    torch.set_num_threads(1)
    pruning = PruningConfig(**GMP90) if pruned else None
    agent = DQN("CartPole-v1", pruning=pruning, seed=seed).learn(50_000)
    returns = evaluate_policy(agent.predict, "CartPole-v1", episodes=20)
    sparsity = agent.pruner.sparsity() if agent.pruner is not None else 0.0
    return float(returns.mean()), sparsity


@pytest.mark.slow
@pytest.mark.parametrize("pruned", [False, True], ids=["dense", "gmp90"])
def test_dqn_solves_cartpole_in_50k_steps(pruned: bool) -> None:
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(final_return, SEEDS, [pruned] * len(SEEDS)))
    finals = np.array([r for r, _ in results])
    assert finals.max() >= 475, f"final returns {finals}"
    assert finals.mean() >= 350, f"final returns {finals}"
    for _, sparsity in results:
        assert sparsity == pytest.approx(0.9 if pruned else 0.0, abs=1e-3)
