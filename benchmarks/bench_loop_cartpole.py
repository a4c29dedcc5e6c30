"""Gated pruning loop vs gradual magnitude pruning, over seeds, with each algo's default settings.

Per seed: train the dense agent (its tuned defaults for the env), run the gated loop with the
default ``LoopConfig`` to ``--target`` (tolerance 5%), its env-step budget the rest of
``--total`` (so dense training + the loop's training stay within it), and train the same agent
from scratch with gradual magnitude pruning (GMP: cubic, 20% -> 75% of training, ERK) to the
sparsity the loop reached, with the same env steps (dense + the loop's). All three final
policies are scored on the same ``--episodes`` independent held-out episodes (seeds 2_000_000+,
which neither the loop's selection nor its own held-out check ever saw); returns over seeds x
episodes give the IQM and mean with stratified bootstrap 95% CIs.

    .venv/bin/python -m benchmarks.bench_loop_cartpole --algo dqn --seeds 5 --workers 2
    .venv/bin/python -m benchmarks.bench_loop_cartpole --algo ppo --seeds 5 --workers 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any

import numpy as np
import torch

from benchmarks.common import machine_line
from prunerl.core import PruningConfig
from prunerl.evaluation import summarize
from prunerl.loop import GatedPruner, LoopConfig
from prunerl.loop.structured import agent_subject
from prunerl.rl.base import Agent
from prunerl.rl.dqn import DQN
from prunerl.rl.evaluate import evaluate_policy
from prunerl.rl.ppo import PPO

INDEPENDENT = 2_000_000  # first seed of the benchmark's own held-out episodes
DENSE_STEPS = {"dqn": 50_000, "ppo": 100_000}  # the README's / RL-Zoo's CartPole budgets


def build(env: str, algo: str, seed: int, pruning: PruningConfig | None = None) -> Agent:
    cls = DQN if algo == "dqn" else PPO
    return cls(env, seed=seed, pruning=pruning)


def held_out(agent: Agent, episodes: int) -> np.ndarray:
    return evaluate_policy(agent.predict, agent.env_id, episodes, INDEPENDENT)


def gated(agent: Agent, args: argparse.Namespace, dense_steps: int) -> dict[str, Any]:
    config = LoopConfig(target=args.target, budget=args.total - dense_steps)
    t0 = time.perf_counter()
    result = GatedPruner(agent_subject(agent, config), config).run()
    assert result.verification is not None
    return {
        "stop_reason": result.stop_reason,
        "status": result.status,
        "verification": str(result.verification),
        "sparsity": result.sparsity,
        "loop_env_steps": result.env_steps,
        "eval_episodes": sum(r.episodes for r in result.history),
        "accepted": result.accepted_steps,
        "rollbacks": result.rollbacks,
        "loop_wall_s": time.perf_counter() - t0,
    }


def gmp(args: argparse.Namespace, seed: int, total: int, sparsity: float) -> Agent:
    """From scratch, pruned gradually to ``sparsity`` from 20% to 75% of ``total`` env steps."""
    config = PruningConfig(method="gmp", sparsity=sparsity, distribution="erk",
                           begin_step=int(0.2 * total), end_step=int(0.75 * total))  # fmt: skip
    agent = build(args.env, args.algo, seed, config)
    agent.learn(total)
    return agent


def run_seed(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    """Dense training, the gated loop from it, and GMP with the same env steps, for one seed."""
    torch.set_num_threads(1)
    steps = args.steps or DENSE_STEPS[args.algo]
    t0 = time.perf_counter()
    agent = build(args.env, args.algo, seed)
    agent.learn(steps)
    returns = {"dense": held_out(agent, args.episodes)}
    row = gated(agent, args, steps)
    returns["gated"] = held_out(agent, args.episodes)
    total = steps + row["loop_env_steps"]
    pruned = gmp(args, seed, total, row["sparsity"])  # where the loop stopped
    returns["gmp"] = held_out(pruned, args.episodes)
    assert pruned.pruner is not None
    row.update(seed=seed, dense_steps=steps, gmp_steps=total, gmp_sparsity=pruned.pruner.sparsity())
    row.update({f"{k}_mean": float(v.mean()) for k, v in returns.items()})
    dense = row["dense_mean"]
    row["within_tolerance"] = row["gated_mean"] >= dense - 0.05 * abs(dense)
    row["returns"] = {k: v.tolist() for k, v in returns.items()}
    row["wall_s"] = time.perf_counter() - t0
    print(json.dumps({k: v for k, v in row.items() if k != "returns"}), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--algo", default="dqn", choices=("ppo", "dqn"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=0, help="dense env steps (0: the default)")
    parser.add_argument("--total", type=int, default=150_000, help="dense + loop env steps")
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--episodes", type=int, default=50, help="independent held-out episodes")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    print(machine_line(workers=args.workers), flush=True)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(partial(run_seed, args), seeds))
    table = {
        k: summarize(np.stack([r["returns"][k] for r in rows]), ci_statistic="iqm").to_dict()
        for k in ("dense", "gated", "gmp")
    }
    for name, s in table.items():
        print(f"{name:6s} IQM {s['iqm']:6.1f}  95% CI [{s['ci_low']:.1f}, {s['ci_high']:.1f}]  "
              f"mean {s['mean']:.1f}")  # fmt: skip
    sparsity = statistics.median(r["sparsity"] for r in rows)
    held = sum(r["within_tolerance"] for r in rows)
    steps = max(r["gmp_steps"] for r in rows)
    print(f"median sparsity {sparsity:.4f}; held-out within 5% of dense on {held}/{len(rows)} "
          f"seeds; at most {steps} env steps per seed")  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "machine": machine_line(), "runs": rows,
                       "summary": table}, f)  # fmt: skip


if __name__ == "__main__":
    main()
