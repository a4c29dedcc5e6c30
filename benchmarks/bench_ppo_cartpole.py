"""PPO CartPole-v1 learning target: final return over seeds, dense and with gradual pruning.

Trains ``--steps`` env steps per seed with ``PPOConfig.for_env("CartPole-v1")``, then scores the
final policy on 20 deterministic episodes (``evaluate_policy``); solved means return >= 475.

    .venv/bin/python benchmarks/bench_ppo_cartpole.py --seeds 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from prunerl.core import PruningConfig
from prunerl.rl.evaluate import evaluate_policy
from prunerl.rl.ppo import PPO

ENV = "CartPole-v1"
SOLVED = 475.0


def gmp(sparsity: float) -> PruningConfig:
    """Cubic gradual magnitude pruning from 20k to 75k env steps, masks updated every 1000."""
    return PruningConfig(
        method="gmp", sparsity=sparsity, begin_step=20_000, end_step=75_000, update_every=1000
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--sparsity", type=float, default=0.9)
    parser.add_argument("--variants", default="dense,gmp")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for variant in args.variants.split(","):
        returns = []
        for seed in range(args.seeds):
            pruning = gmp(args.sparsity) if variant == "gmp" else None
            agent = PPO(ENV, seed=seed, pruning=pruning)
            start = time.perf_counter()
            agent.learn(args.steps)
            elapsed = time.perf_counter() - start
            ret = float(evaluate_policy(agent.predict, ENV, episodes=20).mean())
            sparsity = agent.pruner.sparsity() if agent.pruner is not None else 0.0
            returns.append(ret)
            print(
                f"{variant:6s} seed {seed}  return {ret:6.1f}  sparsity {sparsity:.3f}  "
                f"{elapsed:5.1f} s",
                flush=True,
            )
        solved = sum(r >= SOLVED for r in returns)
        print(
            f"{variant:6s} mean {np.mean(returns):.1f}  solved {solved}/{args.seeds}\n", flush=True
        )


if __name__ == "__main__":
    main()
