"""PPO CartPole-v1 training speed: prunerl (dense and 90% gmp) against Stable-Baselines3.

Same RL-Zoo hyperparameters on both sides (8 envs, n_steps 32, batch 256, 20 epochs, gamma 0.98,
gae_lambda 0.8, lr linear from 1e-3, clip linear from 0.2), one torch thread, the variants
interleaved in one process; reports medians of the repeats and their ratios. Times are process
CPU time (one thread, so wall time on an idle machine), which stays meaningful on a shared one.

    .venv/bin/python benchmarks/bench_ppo_speed.py --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from benchmarks.common import machine_line
from prunerl.core import PruningConfig
from prunerl.rl.evaluate import evaluate_policy
from prunerl.rl.ppo import PPO

ENV = "CartPole-v1"


def run_prunerl(
    steps: int, seed: int, sparsity: float | None, flush: bool = True
) -> tuple[float, float]:
    pruning = None
    if sparsity is not None:  # the learning benchmark's schedule, scaled to ``steps``
        pruning = PruningConfig(
            method="gmp",
            sparsity=sparsity,
            begin_step=steps // 10,
            end_step=steps // 2,
            update_every=1000,
            distribution="erk",
        )
    agent = PPO(ENV, seed=seed, pruning=pruning, flush_denormal=flush)
    start = time.process_time()
    agent.learn(steps)
    elapsed = time.process_time() - start
    return elapsed, float(evaluate_policy(agent.predict, ENV, 10).mean())


def run_sb3(steps: int, seed: int) -> tuple[float, float]:
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.env_util import make_vec_env

    def linear(start: float) -> Callable[[float], float]:
        return lambda progress_remaining: progress_remaining * start

    env = make_vec_env(ENV, n_envs=8, seed=seed)
    model = SB3PPO(
        "MlpPolicy",
        env,
        n_steps=32,
        batch_size=256,
        gae_lambda=0.8,
        gamma=0.98,
        n_epochs=20,
        ent_coef=0.0,
        learning_rate=linear(1e-3),
        clip_range=linear(0.2),
        device="cpu",
        seed=seed,
    )
    torch.set_flush_denormal(False)  # SB3 leaves the CPU's default
    start = time.process_time()
    model.learn(steps)
    elapsed = time.process_time() - start

    def policy(obs: torch.Tensor) -> object:
        return model.predict(obs, deterministic=True)[0]

    return elapsed, float(evaluate_policy(policy, ENV, 10).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--variants", default="sb3,dense,pruned90", help="also: dense_noflush (denormals kept)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(machine_line(flush_denormal="prunerl on, sb3 off"), flush=True)
    runners: dict[str, Callable[[int], tuple[float, float]]] = {
        "sb3": lambda seed: run_sb3(args.steps, seed),
        "dense": lambda seed: run_prunerl(args.steps, seed, None),
        "dense_noflush": lambda seed: run_prunerl(args.steps, seed, None, flush=False),
        "pruned90": lambda seed: run_prunerl(args.steps, seed, 0.9),
    }
    variants = args.variants.split(",")
    times: dict[str, list[float]] = {v: [] for v in variants}
    for r in range(args.repeats):
        for v in variants:
            elapsed, ret = runners[v](r)
            times[v].append(elapsed)
            print(
                f"repeat {r} {v:9s} {elapsed:6.2f} s  {args.steps / elapsed:7.0f} steps/s  "
                f"return {ret:.1f}",
                flush=True,
            )
    med = {v: statistics.median(t) for v, t in times.items()}
    print("\nmedians:")
    for v in variants:
        print(f"  {v:9s} {med[v]:6.2f} s  {args.steps / med[v]:7.0f} env steps/s")
    if "sb3" in med and "dense" in med:
        print(f"speed-up dense vs sb3: {med['sb3'] / med['dense']:.2f}x")
    if "dense" in med and "pruned90" in med:
        print(f"pruned90 / dense wall time: {med['pruned90'] / med['dense']:.3f}")
    if "dense" in med and "dense_noflush" in med:
        print(f"dense without / with denormal flushing: {med['dense_noflush'] / med['dense']:.3f}")


if __name__ == "__main__":
    main()
