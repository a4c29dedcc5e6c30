"""Gated pruning loop on CartPole-v1: the loop vs plain gradual pruning, and sensitivity curves.

Per seed: train a dense agent, run the gated loop to ``--target`` (tolerance 5%, paired
non-inferiority gate on 20 episodes), and train the same agent from scratch with gradual
magnitude pruning (GMP, cubic, Zhu & Gupta 2017) to the same sparsity with the same total env
steps (dense training + the loop's steps). Both final policies are scored on 20 held-out
episodes; returns over seeds x episodes are summarised with a stratified bootstrap CI.

    .venv/bin/python -m benchmarks.bench_loop_cartpole --algo ppo --seeds 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import time
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

ENV = "CartPole-v1"
HELD_OUT = 60_000  # first seed of the held-out episodes (the gate uses 10_000 + i)


def build(algo: str, seed: int, width: int, pruning: PruningConfig | None = None) -> Agent:
    """The tuned CartPole agent with ``width``-unit hidden layers."""
    if algo == "dqn":
        dqn = DQNConfig.for_env(ENV)
        dqn.net_arch = (width, width)
        return DQN(ENV, dqn, seed=seed, pruning=pruning)
    ppo = PPOConfig.for_env(ENV)
    ppo.net_arch = (width, width)
    return PPO(ENV, ppo, seed=seed, pruning=pruning)


def held_out(agent: Agent, episodes: int = 20) -> np.ndarray:
    return evaluate_policy(agent.predict, ENV, episodes, HELD_OUT)


def gated(agent: Agent, args: argparse.Namespace) -> tuple[dict[str, Any], AgentSubject]:
    config = LoopConfig(
        target=args.target,
        tolerance=0.05,
        eval_episodes=20,
        finetune_steps=args.finetune,
        finetune_chunks=args.chunks,
        threshold=475.0,
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


def gmp(algo: str, seed: int, args: argparse.Namespace, total: int) -> Agent:
    """From scratch, pruned gradually from 20% to 75% of ``total`` env steps."""
    config = PruningConfig(
        method="gmp",
        sparsity=args.target,
        begin_step=int(0.2 * total),
        end_step=int(0.75 * total),
        update_every=1000,
        distribution="erk",
    )
    agent = build(algo, seed, args.width, config)
    agent.learn(total)
    return agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", default="ppo", choices=("ppo", "dqn"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40_000, help="dense training env steps")
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--finetune", type=int, default=8192)
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--budget", type=int, default=150_000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows: list[dict[str, Any]] = []
    returns: dict[str, list[np.ndarray]] = {"dense": [], "gated": [], "gmp": []}
    for seed in range(args.seeds):
        agent = build(args.algo, seed, args.width)
        agent.learn(args.steps)
        returns["dense"].append(held_out(agent))
        row, _ = gated(agent, args)
        returns["gated"].append(held_out(agent))
        total = args.steps + row["loop_env_steps"]
        pruned = gmp(args.algo, seed, args, total)
        returns["gmp"].append(held_out(pruned))
        assert pruned.pruner is not None
        row.update(seed=seed, gmp_steps=total, gmp_sparsity=pruned.pruner.sparsity())
        row.update({f"{k}_mean": float(v[-1].mean()) for k, v in returns.items()})
        rows.append(row)
        print(json.dumps(row), flush=True)
    table = {k: summarize(np.stack(v)).to_dict() for k, v in returns.items()}
    for name, stats in table.items():
        ci = f"[{stats['ci_low']:.1f}, {stats['ci_high']:.1f}]"
        print(f"{name:6s} {stats['mean']:6.1f}  95% CI {ci}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "runs": rows, "summary": table}, f)


if __name__ == "__main__":
    main()
