"""Structural pruning during RL training: DQN on CartPole-v1, dense vs 90% of hidden neurons cut.

    .venv/bin/python -m benchmarks.bench_structural_rl --seeds 5 --workers 2 \\
        --json /tmp/bench_structural_rl.json
    # training cost at a fixed budget (no solved check):
    .venv/bin/python -m benchmarks.bench_structural_rl --seeds 4 --steps 50000 \\
        --threshold 1000 --check-every 50000

Per seed, one worker process (one torch thread) trains a dense and a pruned agent back to back
(order alternating with the seed) with ``DQNConfig.for_env("CartPole-v1")`` at learning rate
``--learning-rate`` for both (1e-3: the tuned 2.3e-3 suits 256-unit layers, but a 4-26-26-2
Q-network trained from scratch at 2.3e-3 stays near return 100 for 80k steps on seed 0, and
solves at 37.5k steps at 1e-3). The pruned agent has 90% of each hidden layer's neurons masked
on the cubic schedule from ``--begin`` to ``--end`` env steps (L1 importance) and cut at
``--end``, so it trains the 4-26-26-2 network from then on.

DQN on CartPole oscillates between solving and forgetting, so a fixed budget makes the final
return a coin toss for dense and pruned alike: both train until solved instead (from ``--end``,
every ``--check-every`` steps, 10 greedy episodes on seeds 50_000+ averaging >= ``--threshold``;
at most ``--steps``). The final policies are evaluated on 20 other deterministic episodes
(seeds 10_000+), then measured side by side in the same worker: torch forward at batch 256, the
numpy runtime at batch 1 and npz file sizes. Times are process CPU seconds (one thread; time
spent waiting for a core on a shared machine is not counted). Training time excludes the
evaluations; the cost per env step after the cut compares training the small network with
training the dense one.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.common import CLOCKS, interleaved, paired_ratio, seconds
from prunerl.rl import Agent, Callback, CallbackList, evaluate_policy
from prunerl.rl.dqn import DQN, DQNConfig
from prunerl.rl.export import export_agent
from prunerl.rl.structured import StructuredPruner, layer_widths
from prunerl.runtime import Policy

ENV = "CartPole-v1"


class SolveClock(Callback):
    """Times training in CPU seconds (evaluations excluded); stops once the agent solves the task.

    From env step ``start`` (the cut) on, every ``every`` steps: 10 greedy episodes on seeds
    50_000+ (never used for the final evaluation); mean >= ``threshold`` stops training.
    """

    def __init__(self, start: int, every: int, threshold: float, budget: int) -> None:
        self.start, self.every, self.threshold, self.budget = start, every, threshold, budget
        self.begin = self.at_start = 0.0
        self.aside = 0.0  # seconds spent evaluating
        self.solved_at: int | None = None

    def on_training_start(self, agent: Agent) -> None:
        self.begin = time.process_time()

    def on_step(self, agent: Agent) -> bool:
        t = agent.num_timesteps
        if t == self.start:
            self.at_start = time.process_time() - self.aside
        if t < self.start or t % self.every:
            return True
        tick = time.process_time()
        mean = float(evaluate_policy(agent.predict, ENV, episodes=10, seed=50_000).mean())
        self.aside += time.process_time() - tick
        if mean >= self.threshold:
            self.solved_at = t
            return False
        return True

    def seconds(self) -> tuple[float, float]:
        """Training seconds in all, and after the start step (evaluations left out)."""
        total = time.process_time() - self.begin - self.aside
        return total, total - (self.at_start - self.begin)


def train(seed: int, pruned: bool, args: argparse.Namespace) -> tuple[DQN, dict[str, Any]]:
    """One agent trained until solved (or the budget); final return and training times."""
    config = dataclasses.replace(DQNConfig.for_env(ENV), learning_rate=args.learning_rate)
    agent = DQN(ENV, config, seed=seed)
    clock = SolveClock(args.end, args.check_every, args.threshold, args.steps)
    callbacks: list[Callback] = [clock]
    if pruned:
        pruner = StructuredPruner(
            agent,
            sparsity=args.sparsity,
            importance=args.importance,
            begin_step=args.begin,
            end_step=args.end,
            update_every=max(1, (args.end - args.begin) // 5),
        )
        callbacks.insert(0, pruner)  # the cut lands before the step's check
    agent.learn(args.steps, callback=CallbackList(callbacks))
    total, after = clock.seconds()
    steps_after = agent.num_timesteps - args.end
    returns = evaluate_policy(agent.predict, ENV, episodes=20)
    return agent, {
        "final": float(returns.mean()),
        "solved_at": clock.solved_at,
        "steps": agent.num_timesteps,
        "train_s": total,
        "us_per_step_after_cut": 1e6 * after / max(steps_after, 1),
        "widths": layer_widths(agent.networks["q"]),
    }


def per_call_us(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Interleaved CPU-time samples of each thunk in µs per call (~20 ms of calls a sample).

    CPU time, one thread: time spent waiting for a core on the shared machine is not counted.
    """
    calls = {}
    for name, fn in fns.items():
        fn()  # warm-up
        once = seconds(fn, CLOCKS["wall"])
        calls[name] = max(1, int(0.02 / max(once, 1e-7)))

    def batch(fn: Callable[[], object], n: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(n):
                fn()

        return run

    variants = {name: batch(fn, calls[name]) for name, fn in fns.items()}
    times = interleaved(variants, repeats, CLOCKS["cpu"])
    return {name: [1e6 * t / calls[name] for t in ts] for name, ts in times.items()}


def inference(dense: DQN, cut: DQN, repeats: int) -> dict[str, float]:
    """Side-by-side forward timings and npz sizes of two trained agents' policies."""
    obs = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
    x256 = torch.from_numpy(obs)
    nets = {"dense": dense.networks["q"].eval(), "cut": cut.networks["q"].eval()}
    with torch.no_grad():
        torch_us = per_call_us({k: partial(net, x256) for k, net in nets.items()}, repeats)
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            k: export_agent(agent, "npz", Path(tmp) / f"{k}.npz")
            for k, agent in (("dense", dense), ("cut", cut))
        }
        sizes = {k: p.stat().st_size for k, p in files.items()}
        policies = {k: Policy.load(p) for k, p in files.items()}
    numpy_us = per_call_us({k: partial(p.act, obs[0]) for k, p in policies.items()}, repeats)
    return {
        "torch_b256_dense_us": statistics.median(torch_us["dense"]),
        "torch_b256_cut_us": statistics.median(torch_us["cut"]),
        "torch_b256_throughput_ratio": paired_ratio(torch_us, "dense", "cut"),
        "numpy_b1_dense_us": statistics.median(numpy_us["dense"]),
        "numpy_b1_cut_us": statistics.median(numpy_us["cut"]),
        "numpy_b1_speedup": paired_ratio(numpy_us, "dense", "cut"),
        "npz_dense_bytes": sizes["dense"],
        "npz_cut_bytes": sizes["cut"],
        "npz_size_ratio": sizes["dense"] / sizes["cut"],
    }


def pair(seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Dense and pruned agents of one seed, trained back to back in this process."""
    torch.set_num_threads(1)
    order = [False, True] if seed % 2 == 0 else [True, False]
    agents, rows = {}, {}
    for pruned in order:
        agents[pruned], rows[pruned] = train(seed, pruned, args)
    out = {"seed": seed, "dense": rows[False], "pruned": rows[True]}
    out.update(inference(agents[False], agents[True], args.repeats))
    out["step_cost_ratio"] = (
        rows[False]["us_per_step_after_cut"] / rows[True]["us_per_step_after_cut"]
    )
    out["train_time_ratio"] = rows[False]["train_s"] / rows[True]["train_s"]
    print(json.dumps(out), flush=True)
    return out


def report(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Means of returns over seeds, medians of the per-seed ratios."""
    dense = np.array([r["dense"]["final"] for r in results])
    pruned = np.array([r["pruned"]["final"] for r in results])
    med = lambda key: float(np.median([r[key] for r in results]))  # noqa: E731
    return {
        "seeds": [r["seed"] for r in results],
        "dense_finals": dense.round(1).tolist(),
        "pruned_finals": pruned.round(1).tolist(),
        "dense_mean": float(dense.mean()),
        "pruned_mean": float(pruned.mean()),
        "return_loss_pct": float(100 * (dense.mean() - pruned.mean()) / dense.mean()),
        "widths": results[0]["pruned"]["widths"],
        **{
            k: med(k)
            for k in (
                "step_cost_ratio",
                "train_time_ratio",
                "torch_b256_throughput_ratio",
                "torch_b256_dense_us",
                "torch_b256_cut_us",
                "numpy_b1_speedup",
                "numpy_b1_dense_us",
                "numpy_b1_cut_us",
                "npz_size_ratio",
                "npz_dense_bytes",
                "npz_cut_bytes",
            )
        },
        "dense_solved_at": [r["dense"]["solved_at"] for r in results],
        "pruned_solved_at": [r["pruned"]["solved_at"] for r in results],
        "dense_train_s": [round(r["dense"]["train_s"], 1) for r in results],
        "pruned_train_s": [round(r["pruned"]["train_s"], 1) for r in results],
        "dense_us_per_step_after_cut": [
            round(r["dense"]["us_per_step_after_cut"]) for r in results
        ],
        "pruned_us_per_step_after_cut": [
            round(r["pruned"]["us_per_step_after_cut"]) for r in results
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=80_000, help="budget in env steps")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="both variants")
    parser.add_argument("--sparsity", type=float, default=0.9)
    parser.add_argument("--importance", default="l1")
    parser.add_argument("--begin", type=int, default=5_000)
    parser.add_argument("--end", type=int, default=15_000)
    parser.add_argument("--check-every", type=int, default=2_500)
    parser.add_argument("--threshold", type=float, default=495.0)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(pair, seeds, [args] * len(seeds)))
    summary = {"args": {k: v for k, v in vars(args).items() if k != "json"}, **report(results)}
    summary["args"] = {k: str(v) if isinstance(v, Path) else v for k, v in summary["args"].items()}
    print(json.dumps(summary, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps({"summary": summary, "results": results}, indent=2))


if __name__ == "__main__":
    main()
