"""Gated pruning loop vs plain gradual pruning on CartPole-v1 (or ``--env``), over seeds.

Per seed: train a dense agent, run the gated loop to ``--target`` (tolerance 5%, paired
non-inferiority gate on 20 episodes), and train the same agent from scratch with gradual
magnitude pruning (GMP, cubic, Zhu & Gupta 2017) to the same sparsity with the same total env
steps (dense training + the loop's steps). Both final policies are scored on 20 held-out
episodes; returns over seeds x episodes are summarised with a stratified bootstrap CI.

    .venv/bin/python -m benchmarks.bench_loop_cartpole --algo ppo --seeds 5 --json out.json
    .venv/bin/python -m benchmarks.bench_loop_cartpole --env LunarLander-v3 --algo ppo \
        --steps 1000000 --width 0 --target 0.9 --threshold 200 --finetune 32768 \
        --budget 400000 --seeds 5 --workers 2 --json ll.json

Seeds run in parallel worker processes (``--workers``), one torch thread each.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any

import numpy as np
import torch

from prunerl.core import PruningConfig
from prunerl.evaluation import summarize
from prunerl.loop import AgentSubject, GatedPruner, LoopConfig
from prunerl.rl.base import Agent
from prunerl.rl.dqn import DQN, DQNConfig
from prunerl.rl.evaluate import evaluate_policy
from prunerl.rl.ppo import PPO, PPOConfig

HELD_OUT = 60_000  # first seed of the held-out episodes (the gate uses 10_000 + i)


def build(
    env: str, algo: str, seed: int, width: int, pruning: PruningConfig | None = None
) -> Agent:
    """The tuned agent for ``env``, with ``width``-unit hidden layers unless ``width`` is 0."""
    if algo == "dqn":
        dqn = DQNConfig.for_env(env)
        dqn.net_arch = (width, width) if width else dqn.net_arch
        return DQN(env, dqn, seed=seed, pruning=pruning)
    ppo = PPOConfig.for_env(env)
    ppo.net_arch = (width, width) if width else ppo.net_arch
    return PPO(env, ppo, seed=seed, pruning=pruning)


def held_out(agent: Agent, episodes: int = 20) -> np.ndarray:
    return evaluate_policy(agent.predict, agent.env_id, episodes, HELD_OUT)


def gated(agent: Agent, args: argparse.Namespace) -> tuple[dict[str, Any], AgentSubject]:
    config = LoopConfig(
        target=args.target,
        tolerance=0.05,
        eval_episodes=20,
        finetune_steps=args.finetune,
        finetune_chunks=args.chunks,
        threshold=args.threshold,
        budget=args.budget,
    )
    subject = AgentSubject(agent, config)
    t0 = time.perf_counter()
    result = GatedPruner(subject, config).run()
    return {
        "stop_reason": result.stop_reason,
        "sparsity": result.sparsity,
        "loop_env_steps": result.env_steps,
        "accepted": result.accepted_steps,
        "rollbacks": result.rollbacks,
        "wall_s": time.perf_counter() - t0,
    }, subject


def gmp(algo: str, seed: int, args: argparse.Namespace, total: int, sparsity: float) -> Agent:
    """From scratch, pruned gradually to ``sparsity`` from 20% to 75% of ``total`` env steps."""
    config = PruningConfig(
        method="gmp",
        sparsity=sparsity,
        begin_step=int(0.2 * total),
        end_step=int(0.75 * total),
        update_every=1000,
        distribution="erk",
    )
    agent = build(args.env, algo, seed, args.width, config)
    agent.learn(total)
    return agent


def run_seed(args: argparse.Namespace, seed: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Dense training, the gated loop from it, and GMP with the same env steps, for one seed."""
    torch.set_num_threads(1)
    returns: dict[str, np.ndarray] = {}
    agent = build(args.env, args.algo, seed, args.width)
    agent.learn(args.steps)
    returns["dense"] = held_out(agent)
    row, _ = gated(agent, args)
    returns["gated"] = held_out(agent)
    total = args.steps + row["loop_env_steps"]
    pruned = gmp(args.algo, seed, args, total, row["sparsity"])  # where the loop stopped
    returns["gmp"] = held_out(pruned)
    assert pruned.pruner is not None
    row.update(seed=seed, gmp_steps=total, gmp_sparsity=pruned.pruner.sparsity())
    row.update({f"{k}_mean": float(v.mean()) for k, v in returns.items()})
    row["returns"] = {k: v.tolist() for k, v in returns.items()}
    print(json.dumps(row), flush=True)
    return row, returns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--algo", default="ppo", choices=("ppo", "dqn"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40_000, help="dense training env steps")
    parser.add_argument("--width", type=int, default=256, help="0: the env's tuned widths")
    parser.add_argument("--threshold", type=float, default=475.0, help="loop trains to this")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--finetune", type=int, default=8192)
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--budget", type=int, default=150_000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows: list[dict[str, Any]] = []
    returns: dict[str, list[np.ndarray]] = {"dense": [], "gated": [], "gmp": []}
    with ProcessPoolExecutor(args.workers) as pool:
        for row, seed_returns in pool.map(partial(run_seed, args), range(args.seeds)):
            rows.append(row)
            for name, values in seed_returns.items():
                returns[name].append(values)
    table = {k: summarize(np.stack(v)).to_dict() for k, v in returns.items()}
    for name, stats in table.items():
        ci = f"[{stats['ci_low']:.1f}, {stats['ci_high']:.1f}]"
        print(f"{name:6s} {stats['mean']:6.1f}  95% CI {ci}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "runs": rows, "summary": table}, f)


if __name__ == "__main__":
    main()
