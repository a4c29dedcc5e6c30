"""The demo experiment: DQN on CartPole-v1, dense vs pruned to 90% during training (GMP).

Both runs share seed, budget and evaluation episodes, so the table compares like with like; on a
machine with two or more cores they train side by side in two processes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from prunerl.experiments.config import RunConfig, build_config
from prunerl.experiments.runner import train

DEMO_ENV, DEMO_ALGO = "CartPole-v1", "dqn"
DEMO_STEPS = 50_000


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
    pruned = {**base, "pruning": {"method": method, "sparsity": sparsity}}
    return {
        "dense": build_config(base),
        f"{method}{round(sparsity * 100)}": build_config(pruned),
    }


def _train_one(config: dict[str, Any], out: str, threads: int) -> dict[str, Any]:
    """Worker: train one run quietly (module level so a spawned process can import it)."""
    import torch

    torch.set_num_threads(threads)
    return train(build_config(config), out=out, overwrite=True, quiet=True)


def run_demo(
    configs: dict[str, RunConfig],
    out: str | Path = "runs/demo",
    parallel: bool | None = None,
    on_start: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Train every config into ``out/<label>`` (replacing earlier demo runs); their summaries.

    ``parallel`` (None: when the machine has two or more cores) trains in one process per run,
    each with one torch thread; otherwise they run one after the other with progress bars.
    """
    root = Path(out)
    if parallel is None:
        parallel = (os.cpu_count() or 1) >= 2 and len(configs) > 1
    if not parallel:
        import torch

        torch.set_num_threads(1)
        results = {}
        for label, cfg in configs.items():
            if on_start is not None:
                on_start(label)
            results[label] = train(cfg, out=root / label, overwrite=True)
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(configs), mp_context=context) as pool:
        futures = {
            label: pool.submit(_train_one, cfg.to_dict(), str(root / label), 1)
            for label, cfg in configs.items()
        }
        if on_start is not None:
            on_start(" and ".join(configs))
        return {label: f.result() for label, f in futures.items()}
