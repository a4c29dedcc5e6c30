"""The demo experiment: DQN on CartPole-v1, dense vs pruned to 90% during training (GMP, ERK).

Both runs share seed, budget and evaluation episodes, so the table compares like with like; on a
machine with two or more cores they train side by side in two processes.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import queue
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from prunerl.experiments.callbacks import agent_sparsity
from prunerl.experiments.config import RunConfig, build_config
from prunerl.experiments.runner import evaluate, train
from prunerl.rl.base import Agent
from prunerl.rl.callbacks import Callback

DEMO_ENV, DEMO_ALGO = "CartPole-v1", "dqn"
DEMO_STEPS = 50_000
HELD_OUT_SEED = 20_000  # the best policy is re-evaluated on episodes it was not selected on


def demo_configs(
    steps: int = DEMO_STEPS,
    sparsity: float = 0.9,
    seed: int = 0,
    episodes: int = 20,
    method: str = "gmp",
) -> dict[str, RunConfig]:
    """Two run configs differing only in pruning: ``dense`` and e.g. ``gmp90``."""
    base: dict[str, Any] = {
        "env_id": DEMO_ENV,
        "algo": DEMO_ALGO,
        "total_steps": steps,
        "seed": seed,
        "eval": {"episodes": episodes},
        "checkpoint": {"every": steps},  # the demo needs no intermediate checkpoints
    }
    # ERK (Evci et al. 2020) keeps the small input and output layers denser than the 256x256
    # hidden layer; uniform 90% leaves the 2-action output layer 51 weights and is unstable.
    pruning = {"method": method, "sparsity": sparsity, "distribution": "erk"}
    pruned = {**base, "pruning": pruning}
    return {
        "dense": build_config(base),
        f"{method}{round(sparsity * 100)}": build_config(pruned),
    }


Report = Callable[[str, int, float, float], None]  # label, env step, recent return, sparsity


class Reporter(Callback):
    """Reports a run's progress a few times a second (through a queue from a worker process)."""

    def __init__(self, label: str, report: Report, every_s: float = 0.2) -> None:
        self.label, self.report, self.every_s = label, report, every_s
        self.recent, self.next = math.nan, 0.0

    def on_episode(self, agent: Agent, episode_return: float, length: int) -> None:
        self.recent = episode_return

    def on_step(self, agent: Agent) -> bool:
        now = time.perf_counter()
        if now >= self.next:
            self.next = now + self.every_s
            self.report(self.label, agent.num_timesteps, self.recent, agent_sparsity(agent))
        return True

    def on_training_end(self, agent: Agent) -> None:
        self.report(self.label, agent.num_timesteps, self.recent, agent_sparsity(agent))


_QUEUE: Any = None  # the parent's progress queue, set in each worker process


def _init_worker(queue: Any) -> None:
    global _QUEUE
    _QUEUE = queue
    import torch

    torch.set_num_threads(1)  # two processes on two cores: one thread each


def _train_one(label: str, config: dict[str, Any], out: str) -> dict[str, Any]:
    """Worker: train one run quietly, reporting progress to the parent's queue."""
    reporter = Reporter(label, lambda *item: _QUEUE.put(item))
    return train(build_config(config), out=out, overwrite=True, quiet=True, callbacks=[reporter])


def run_demo(
    configs: dict[str, RunConfig],
    out: str | Path = "runs/demo",
    parallel: bool | None = None,
    on_progress: Report | None = None,
) -> dict[str, dict[str, Any]]:
    """Train every config into ``out/<label>`` (replacing earlier demo runs); their summaries.

    ``parallel`` (None: when the machine has two or more cores) trains in one process per run,
    each with one torch thread; otherwise one after the other. ``on_progress`` gets updates.
    """
    root, report = Path(out), on_progress or (lambda *item: None)
    if parallel is None:
        parallel = (os.cpu_count() or 1) >= 2 and len(configs) > 1
    if not parallel:
        import torch

        torch.set_num_threads(1)
        results = {
            label: train(
                cfg, root / label, overwrite=True, callbacks=[Reporter(label, report)], quiet=True
            )
            for label, cfg in configs.items()
        }
        return add_held_out_best(results, root)
    context = multiprocessing.get_context("spawn")
    progress = context.Queue()
    with ProcessPoolExecutor(
        len(configs), mp_context=context, initializer=_init_worker, initargs=(progress,)
    ) as pool:
        futures = {
            label: pool.submit(_train_one, label, cfg.to_dict(), str(root / label))
            for label, cfg in configs.items()
        }
        while not all(f.done() for f in futures.values()) or not progress.empty():
            with contextlib.suppress(queue.Empty):
                report(*progress.get(timeout=0.2))
        results = {label: f.result() for label, f in futures.items()}
    return add_held_out_best(results, root)


def add_held_out_best(results: dict[str, dict[str, Any]], root: Path) -> dict[str, dict[str, Any]]:
    """Add ``best_held_out_mean/std``: each run's best policy on fresh evaluation episodes.

    The best checkpoint was chosen on the evaluation seeds, so its return there is optimistic;
    the same number of episodes from ``HELD_OUT_SEED`` on gives an unbiased estimate.
    """
    for label, summary in results.items():
        summary["best_held_out_mean"] = summary["best_held_out_std"] = None
        if summary.get("best_return_mean") is not None:
            episodes = int(summary["eval_episodes"])
            held_out = evaluate(root / label, episodes, "best", seed=HELD_OUT_SEED)
            summary["best_held_out_mean"] = held_out["return_mean"]
            summary["best_held_out_std"] = held_out["return_std"]
    return results
