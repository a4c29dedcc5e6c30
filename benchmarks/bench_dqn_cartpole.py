"""DQN on CartPole-v1, dense and pruned to 90% with GMP during training: final returns per seed.

    .venv/bin/python benchmarks/bench_dqn_cartpole.py --seeds 5 --workers 2

Each run trains for 50k env steps with ``DQNConfig.for_env("CartPole-v1")`` (override fields
with ``--set key=value``), then evaluates the *final* policy on 20 deterministic episodes.
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from prunerl.core import PruningConfig
from prunerl.rl import Agent, Callback, evaluate_policy
from prunerl.rl.dqn import DQN, DQNConfig

ENV = "CartPole-v1"
GMP90 = dict(method="gmp", sparsity=0.9, begin_step=10_000, end_step=37_500, update_every=1000)


class Curve(Callback):
    """Diagnostics only (``--curve N``): mean return of 5 greedy episodes every N steps."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.points: list[tuple[int, float, float]] = []
        self.q_mean = 0.0

    def on_update(self, agent: Agent, metrics: dict[str, float]) -> None:
        self.q_mean = metrics["q_mean"]

    def on_step(self, agent: Agent) -> bool:
        if self.every and agent.num_timesteps % self.every == 0:
            returns = evaluate_policy(agent.predict, ENV, episodes=5, seed=50_000)
            self.points.append((agent.num_timesteps, float(returns.mean()), self.q_mean))
        return True


def run(
    seed: int, pruned: bool, steps: int, overrides: dict[str, Any], curve_every: int = 0
) -> dict[str, Any]:
    """Train one agent and evaluate its final policy."""
    torch.set_num_threads(1)
    config = replace(DQNConfig.for_env(ENV), **overrides)
    pruning = PruningConfig(**GMP90) if pruned else None
    curve = Curve(curve_every)
    start = time.perf_counter()
    agent = DQN(ENV, config, pruning=pruning, seed=seed).learn(steps, callback=curve)
    wall = time.perf_counter() - start
    returns = evaluate_policy(agent.predict, ENV, episodes=20)
    sparsity = agent.pruner.sparsity() if agent.pruner is not None else 0.0
    return dict(
        seed=seed,
        pruned=pruned,
        final=float(returns.mean()),
        wall=wall,
        sparsity=sparsity,
        curve=[f"{r:.0f}/{q:.0f}" for _, r, q in curve.points],
    )


def parse_overrides(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=["dense", "gmp90"], default=None)
    parser.add_argument("--curve", type=int, default=0, help="diagnostic eval every N steps")
    parser.add_argument("--set", nargs="*", default=[], help="config overrides key=value")
    args = parser.parse_args()
    overrides = parse_overrides(args.set)
    variants = [False, True] if args.only is None else [args.only == "gmp90"]
    jobs = [
        (s, p, args.steps, overrides, args.curve)
        for p in variants
        for s in range(args.first_seed, args.first_seed + args.seeds)
    ]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run, *zip(*jobs, strict=True)))
    for pruned in variants:
        rows = [r for r in results if r["pruned"] == pruned]
        finals = np.array([round(r["final"], 1) for r in rows])
        label = "gmp90" if pruned else "dense"
        print(
            f"{label}: finals {finals.tolist()} mean {finals.mean():.1f} "
            f"± {finals.std():.1f}, solved (>=475) {(finals >= 475).sum()}/{len(finals)}, "
            f"wall median {np.median([r['wall'] for r in rows]):.1f}s, "
            f"sparsity {rows[0]['sparsity']:.3f}"
        )
    for r in results:
        if r["curve"]:
            print(f"seed {r['seed']} pruned {r['pruned']}: {r['curve']}")
    print(json.dumps({"overrides": overrides, "results": results}))


if __name__ == "__main__":
    main()
