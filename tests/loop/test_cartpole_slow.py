"""The gated loop on real trained CartPole agents (slow).

What is asserted holds by construction on any machine: every accepted step passed the gate on
its selection episodes, and the result is within tolerance of the reference on the held-out
episodes (the loop verifies it and falls back otherwise). How far the loop prunes depends on
the RL trajectory; it is asserted only with a wide margin (half of the weights, where the
5-seed benchmark in docs/benchmarks.md reaches 95% on every seed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from prunerl.experiments import build_config, train
from prunerl.experiments.prune_session import prune_run
from prunerl.loop import History, LoopConfig

pytestmark = pytest.mark.slow


def dense_run(out: Path, algo: str, steps: int, seed: int) -> Path:
    torch.set_num_threads(1)
    config = {
        "env_id": "CartPole-v1",
        "algo": algo,
        "total_steps": steps,
        "seed": seed,
        "eval": {"episodes": 10},
        "logging": {"quiet": True},
    }
    train(build_config(config), out=out)
    return out


def check_guarantees(source: Path, out: Path, **changes: Any) -> dict[str, Any]:
    config = LoopConfig(target=0.95, tolerance=0.05, **changes)
    summary = prune_run(source, config, out)
    history = History.read_csv(out / "history.csv")
    for record in history:
        if record.accepted:
            assert record.gate_value >= record.gate_threshold and record.episodes >= 20
    check = summary["verification"]
    assert summary["status"] in ("verified", "fell_back"), summary["verification_message"]
    assert check["mean"] >= check["threshold"] and check["episodes"] == 50
    assert summary["final_return_mean"] == pytest.approx(check["mean"])
    assert summary["eval_seeds"][0] == check["first_seed"] == 1_000_000
    assert history[-1].action == "verify" and history[-1].sparsity == summary["loop_sparsity"]
    assert summary["loop_sparsity"] >= 0.5  # a wide margin: the benchmark reaches 0.95
    return summary


def test_ppo_loop_keeps_the_return_on_held_out_episodes(tmp_path: Path) -> None:
    source = dense_run(tmp_path / "dense", "ppo", 60_000, 1)
    check_guarantees(source, tmp_path / "p95", budget=20_000)


def test_dqn_loop_keeps_the_return_on_held_out_episodes(tmp_path: Path) -> None:
    source = dense_run(tmp_path / "dense", "dqn", 30_000, 0)
    check_guarantees(source, tmp_path / "p95", budget=20_000)
