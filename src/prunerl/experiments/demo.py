"""The demo: PPO on CartPole-v1 trained dense, made smaller by the gated loop, exported, compared.

1. Train PPO (RL-Zoo's CartPole settings) dense into ``OUT/dense``.
2. Prune whole hidden neurons with the gated loop into ``OUT/pruned``: each step masks the
   least important neurons, distils the network back towards the dense one, and is kept only
   if the paired sequential gate passes on selection episodes; the result is verified on
   held-out episodes (falling back to an earlier point if it misses the tolerance there) and
   physically cut: a smaller dense network.
3. Export both policies for the numpy runtime and time them side by side in this process.

What holds on any machine and seed is what is checked or counted: the pruned policy's held-out
return is within the tolerance of the dense one on the same held-out episodes (the loop's
verification, by construction), and the parameter, FLOP and file-size counts of the networks
it ends with. Latencies are medians of interleaved rounds on this machine; their ratio is the
portable part. The RL trajectory (how far pruning gets, the exact returns) depends on the CPU's
float rounding: another machine may end at another sparsity, never outside the tolerance.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from prunerl.core.cost import measure
from prunerl.evaluation.latency import measure_latency
from prunerl.experiments.config import build_config
from prunerl.experiments.prune_session import prune_run
from prunerl.experiments.runner import load_run, train
from prunerl.loop.config import LoopConfig
from prunerl.loop.history import StepRecord
from prunerl.rl.base import Agent
from prunerl.rl.callbacks import Callback
from prunerl.rl.export import export_agent, policy_spec
from prunerl.rl.structured import layer_widths
from prunerl.runtime import Policy

DEMO_ENV, DEMO_ALGO = "CartPole-v1", "ppo"
DEMO_STEPS = 100_000  # RL-Zoo's CartPole budget for PPO
DEMO_TARGET = 0.9  # share of hidden neurons the loop aims to remove (it stops where it must)
DEMO_TOLERANCE = 0.05
BATCH = 256  # the batched latency: many envs or agents acting at once


@dataclass
class DemoResult:
    """Both runs' summaries, the exported files and what was measured on them."""

    dense: dict[str, Any]
    pruned: dict[str, Any]
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> measurements
    out: Path = Path("runs/demo")


def demo_run_config(steps: int, seed: int) -> dict[str, Any]:
    """The dense run: PPO on CartPole-v1 with its tuned settings, no pruning."""
    return {
        "env_id": DEMO_ENV,
        "algo": DEMO_ALGO,
        "total_steps": steps,
        "seed": seed,
        "eval": {"episodes": 20},
        "checkpoint": {"every": steps},
        "logging": {"quiet": True},
    }


def demo_loop_config(target: float, tolerance: float, budget: int | None) -> LoopConfig:
    """Neurons, cut at the end; the loop's other settings are its defaults."""
    return LoopConfig(target=target, tolerance=tolerance, structured=True, budget=budget)


def interleaved_latency(
    fns: dict[str, Callable[[np.ndarray], Any]], example: np.ndarray, rounds: int = 5
) -> dict[str, dict[str, float]]:
    """Median batch-1 and batch-``BATCH`` latency (µs) of each policy, the policies timed in
    turn within every round so the machine's load hits them alike."""
    seen: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    for r in range(rounds):
        for name in fns if r % 2 == 0 else reversed(list(fns)):
            lat = measure_latency(fns[name], example, batch_size=BATCH, repeats=200)
            seen[name].append((lat.batch1_us, lat.batch_n_us))
    return {
        name: {
            "batch1_us": statistics.median(t[0] for t in times),
            f"batch{BATCH}_us": statistics.median(t[1] for t in times),
        }
        for name, times in seen.items()
    }


def policy_numbers(agent: Agent, path: Path) -> dict[str, Any]:
    """Widths, parameters, FLOPs per action and file size of an agent's exported policy."""
    spec = policy_spec(agent)
    cost = measure(spec.module, spec.example[:1])
    return {
        "widths": layer_widths(agent.policy_network()),
        "params": cost.params_total,
        "flops": cost.flops_dense,
        "file_bytes": path.stat().st_size,
    }


def train_dense(
    out: Path, steps: int, seed: int, callbacks: list[Callback] | None = None
) -> dict[str, Any]:
    """Step 1: the dense run in ``out/dense`` (replacing an earlier one)."""
    config = build_config(demo_run_config(steps, seed))
    return train(config, out / "dense", overwrite=True, callbacks=callbacks or [])


def prune_dense(
    out: Path, loop: LoopConfig, on_record: Callable[[StepRecord], None] | None = None
) -> dict[str, Any]:
    """Step 2: the gated loop (:func:`demo_loop_config`) from ``out/dense`` into ``out/pruned``."""
    return prune_run(out / "dense", loop, out / "pruned", overwrite=True, report=on_record)


def export_and_measure(out: Path) -> dict[str, dict[str, Any]]:
    """Step 3: both policies exported for the numpy runtime, counted and timed side by side."""
    agents = {label: load_run(out / label, "last")[2] for label in ("dense", "pruned")}
    rows: dict[str, dict[str, Any]] = {}
    policies: dict[str, Callable[[np.ndarray], Any]] = {}
    for label, agent in agents.items():
        path = export_agent(agent, "npz", out / label / "export" / "policy.npz")
        rows[label] = policy_numbers(agent, path)
        policies[f"{label}, numpy runtime"] = Policy.load(path).act
    policies["dense, torch (agent.predict)"] = agents["dense"].predict
    example = np.asarray(agents["dense"].observation_space.sample(), dtype=np.float32)
    rows["latency"] = interleaved_latency(policies, example)
    return rows


def run_demo(
    out: str | Path = "runs/demo",
    steps: int = DEMO_STEPS,
    seed: int = 0,
    target: float = DEMO_TARGET,
    tolerance: float = DEMO_TOLERANCE,
    budget: int | None = 50_000,
) -> DemoResult:
    """The three steps in a row (the CLI runs them one by one, to show progress)."""
    root = Path(out)
    loop = demo_loop_config(target, tolerance, budget)  # bad settings fail before training
    dense = train_dense(root, steps, seed)
    pruned = prune_dense(root, loop)
    return DemoResult(dense, pruned, export_and_measure(root), root)
