"""Dense vs pruned-during-training agents on any env: final return over seeds, with CIs.

Each job trains one (env, algo, variant, seed) with the algorithm's tuned ``for_env`` config,
then scores the final policy on 20 deterministic episodes. ``gmp`` prunes with cubic gradual
magnitude pruning from 20% to 75% of training, every 1000 env steps (the issue's schedule);
``neurons:S`` removes a share S of every hidden layer's neurons on the same schedule (L1
importance, soft masks) and cuts the network to the smaller dense one at 75% of training.
Jobs run in parallel processes (one torch thread each) and every finished job is appended to
``--out`` as one JSON line at once, so a run cut short keeps what it finished.

    .venv/bin/python benchmarks/bench_sparse_agents.py --env LunarLander-v3 --algo dqn,ppo \\
        --seeds 5 --workers 16 --out results.jsonl
    .venv/bin/python benchmarks/bench_sparse_agents.py --report results.jsonl
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

#: env steps per algorithm and env (RL-Zoo budgets where it has one)
STEPS: dict[tuple[str, str], int] = {
    ("dqn", "CartPole-v1"): 50_000,
    ("dqn", "LunarLander-v3"): 200_000,
    ("dqn", "Acrobot-v1"): 100_000,
    ("ppo", "CartPole-v1"): 100_000,
    ("ppo", "LunarLander-v3"): 1_000_000,
    ("ppo", "Acrobot-v1"): 300_000,
}
#: layer distribution of the sparsity (what worked on CartPole, docs/benchmarks.md)
DISTRIBUTION = {"dqn": "uniform", "ppo": "erk"}


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Train and score one job; returns its result row."""
    import torch

    from prunerl.core import PruningConfig
    from prunerl.rl.evaluate import evaluate_policy

    torch.set_num_threads(1)
    algo, env_id, steps = job["algo"], job["env"], job["steps"]
    pruning = None
    if job["variant"] == "gmp":
        pruning = PruningConfig(
            method="gmp",
            sparsity=job["sparsity"],
            begin_step=int(0.2 * steps),
            end_step=int(0.75 * steps),
            update_every=1000,
            distribution=DISTRIBUTION[algo],
        )
    if algo == "dqn":
        from prunerl.rl.dqn import DQN
        from prunerl.rl.dqn_config import DQNConfig

        agent: Any = DQN(env_id, DQNConfig.for_env(env_id), seed=job["seed"], pruning=pruning)
    else:
        from prunerl.rl.ppo import PPO
        from prunerl.rl.ppo_config import PPOConfig

        agent = PPO(env_id, PPOConfig.for_env(env_id), seed=job["seed"], pruning=pruning)
    callback = None
    if job["variant"].startswith("neurons:"):
        from prunerl.rl.structured import StructuredPruner

        callback = StructuredPruner(
            agent,
            sparsity=float(job["variant"].split(":")[1]),
            begin_step=int(0.2 * steps),
            end_step=int(0.75 * steps),
            update_every=1000,
        )
    start = time.perf_counter()
    agent.learn(steps, callback=callback)
    wall = time.perf_counter() - start
    returns = evaluate_policy(agent.predict, env_id, episodes=job["episodes"])
    if callback is not None:
        from prunerl.rl.agent_networks import layer_widths

        sparsity = float(callback.config.sparsity)  # type: ignore[arg-type]
        widths = {n: layer_widths(agent.networks[n]) for n in callback.widths_before}
    else:
        sparsity = agent.pruner.sparsity() if agent.pruner is not None else 0.0
        widths = {}
    return {
        **job,
        "widths": widths,
        "returns": [float(r) for r in returns],
        "return_mean": float(np.mean(returns)),
        "sparsity_reached": sparsity,
        "train_wall_s": wall,
        "env_steps_per_s": steps / wall,
    }


def jobs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every job, longest first (so parallel workers finish together)."""
    out = []
    for env_id in args.env.split(","):
        for algo in args.algo.split(","):
            steps = args.steps or STEPS.get((algo, env_id), 100_000)
            for seed in range(args.seeds):
                for variant in args.variants.split(","):
                    out.append(
                        dict(env=env_id, algo=algo, variant=variant, seed=seed, steps=steps,
                             sparsity=args.sparsity, episodes=args.episodes)
                    )  # fmt: skip
    cost = {"dqn": 6.0, "ppo": 1.0}  # rough seconds per env step, relative
    return sorted(out, key=lambda j: -j["steps"] * cost[j["algo"]])


def report(path: Path) -> None:
    """A markdown table per (env, algo, variant): seeds, mean ± std over seeds, IQM, 95% CI."""
    from prunerl.evaluation import summarize

    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for line in path.read_text().splitlines():
        row = json.loads(line)
        groups[(row["env"], row["algo"], row["variant"])].append(row)
    print("| env | algo | variant | seeds | steps | return mean ± std (seeds) | IQM | 95% CI "
          "(mean) | sparsity | env steps/s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (env_id, algo, variant), rows in sorted(groups.items()):
        rows.sort(key=lambda r: r["seed"])
        stats = summarize(np.array([r["returns"] for r in rows]))
        per_seed = [r["return_mean"] for r in rows]
        seeds = ",".join(str(r["seed"]) for r in rows)
        print(
            f"| {env_id} | {algo} | {variant} | {seeds} | {rows[0]['steps']:,} | "
            f"{np.mean(per_seed):.1f} ± {np.std(per_seed, ddof=1) if len(rows) > 1 else 0:.1f} | "
            f"{stats.iqm:.1f} | [{stats.ci_low:.1f}, {stats.ci_high:.1f}] | "
            f"{np.mean([r['sparsity_reached'] for r in rows]):.3f} | "
            f"{np.median([r['env_steps_per_s'] for r in rows]):,.0f} |"
        )
    for (env_id, algo, variant), rows in sorted(groups.items()):
        each = ", ".join(f"{r['seed']}: {r['return_mean']:.1f}" for r in rows)
        print(f"\n{env_id} {algo} {variant} per seed: {each}", end="")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="LunarLander-v3", help="comma-separated env ids")
    parser.add_argument("--algo", default="dqn,ppo", help="comma-separated: dqn, ppo")
    parser.add_argument("--variants", default="dense,gmp")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=0, help="0: the STEPS table")
    parser.add_argument("--sparsity", type=float, default=0.9)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench_sparse_agents.jsonl"))
    parser.add_argument("--report", type=Path, default=None, help="summarise a results file")
    args = parser.parse_args()
    if args.report is not None:
        report(args.report)
        return
    todo = jobs(args)
    print(f"{len(todo)} jobs on {args.workers} workers", flush=True)
    with mp.get_context("spawn").Pool(args.workers, maxtasksperchild=1) as pool:
        for row in pool.imap_unordered(run_job, todo):
            with args.out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(
                f"{row['env']} {row['algo']} {row['variant']} seed {row['seed']}: "
                f"{row['return_mean']:.1f} sparsity {row['sparsity_reached']:.3f} "
                f"{row['train_wall_s']:.0f} s",
                flush=True,
            )
    report(args.out)


if __name__ == "__main__":
    main()
