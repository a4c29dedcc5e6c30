"""PPO CartPole-v1 learning target: final return over seeds, dense and with gradual pruning.

Trains ``--steps`` env steps per seed with ``PPOConfig.for_env("CartPole-v1")``, then scores the
final policy on 20 deterministic episodes (``evaluate_policy``); solved means return >= 475.
Pruning: cubic GMP to 90% over actor and critic from 10k to 50k env steps with an ERK layer
distribution (see docs/benchmarks.md for why not 20k-75k uniform).

    .venv/bin/python benchmarks/bench_ppo_cartpole.py --seeds 5
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import time

import numpy as np
import torch

from prunerl.core import PruningConfig
from prunerl.rl.evaluate import evaluate_policy
from prunerl.rl.ppo import PPO
from prunerl.rl.ppo_config import PPOConfig

ENV = "CartPole-v1"
SOLVED = 475.0


def gmp(sparsity: float, begin: int, end: int, distribution: str) -> PruningConfig:
    """Cubic gradual magnitude pruning from ``begin`` to ``end`` env steps, every 1000 steps."""
    return PruningConfig(
        method="gmp",
        sparsity=sparsity,
        begin_step=begin,
        end_step=end,
        update_every=1000,
        distribution=distribution,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--sparsity", type=float, default=0.9)
    parser.add_argument("--variants", default="dense,gmp")
    parser.add_argument("--begin", type=int, default=10_000)
    parser.add_argument("--end", type=int, default=50_000)
    parser.add_argument("--distribution", default="erk")
    parser.add_argument(
        "--set", action="append", default=[], help="PPOConfig override, e.g. ent_coef=0.01"
    )
    parser.add_argument(
        "--seed-list", default=None, help="comma-separated seeds (overrides --seeds)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    for variant in args.variants.split(","):
        returns = []
        seeds = [int(x) for x in args.seed_list.split(",")] if args.seed_list else range(args.seeds)
        for seed in seeds:
            pruning = None
            if variant == "gmp":
                pruning = gmp(args.sparsity, args.begin, args.end, args.distribution)
            overrides = {k: ast.literal_eval(v) for k, v in (o.split("=", 1) for o in args.set)}
            config = dataclasses.replace(PPOConfig.for_env(ENV), **overrides)
            agent = PPO(ENV, config, seed=seed, pruning=pruning)
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
            f"{variant:6s} mean {np.mean(returns):.1f}  solved {solved}/{len(returns)}\n",
            flush=True,
        )


if __name__ == "__main__":
    main()
