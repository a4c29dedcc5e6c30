"""SAC Pendulum-v1 learning target: final return over seeds, dense and with gradual pruning.

Trains ``--steps`` env steps per seed with ``SACConfig.for_env("Pendulum-v1")``, then scores the
final policy on 20 deterministic episodes (``evaluate_policy``); the target is a return >= -200.
Pruning: cubic GMP to 80% over actor and critics from 4k to 15k env steps, ERK distribution.

    .venv/bin/python benchmarks/bench_sac_pendulum.py --seeds 5
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
from prunerl.rl.sac import SAC
from prunerl.rl.sac_config import SACConfig

ENV = "Pendulum-v1"
TARGET = -200.0


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
    parser.add_argument(
        "--seed-list", default=None, help="comma-separated seeds (overrides --seeds)"
    )
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--sparsity", type=float, default=0.8)
    parser.add_argument("--begin", type=int, default=4_000)
    parser.add_argument("--end", type=int, default=15_000)
    parser.add_argument("--variants", default="dense,gmp")
    parser.add_argument("--distribution", default="erk")
    parser.add_argument(
        "--set", action="append", default=[], help="SACConfig override, e.g. net_arch=(256,256)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = [int(x) for x in args.seed_list.split(",")] if args.seed_list else range(args.seeds)
    for variant in args.variants.split(","):
        returns = []
        for seed in seeds:
            pruning = None
            if variant == "gmp":
                pruning = gmp(args.sparsity, args.begin, args.end, args.distribution)
            overrides = {k: ast.literal_eval(v) for k, v in (o.split("=", 1) for o in args.set)}
            config = dataclasses.replace(SACConfig.for_env(ENV), **overrides)
            agent = SAC(ENV, config, seed=seed, pruning=pruning)
            start = time.perf_counter()
            agent.learn(args.steps)
            elapsed = time.perf_counter() - start
            ret = float(evaluate_policy(agent.predict, ENV, episodes=20).mean())
            sparsity = agent.pruner.sparsity() if agent.pruner is not None else 0.0
            returns.append(ret)
            print(
                f"{variant:6s} seed {seed}  return {ret:7.1f}  sparsity {sparsity:.3f}  "
                f"{elapsed:5.1f} s",
                flush=True,
            )
        reached = sum(r >= TARGET for r in returns)
        mean = np.mean(returns)
        print(
            f"{variant:6s} mean {mean:.1f}  >= {TARGET:.0f}: {reached}/{len(returns)}\n", flush=True
        )


if __name__ == "__main__":
    main()
