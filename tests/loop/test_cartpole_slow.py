"""The gated loop on real trained CartPole agents (slow): 95% sparsity at return >= 475, and a
deliberately aggressive first step that is rolled back and retried smaller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from prunerl.experiments import build_config, train
from prunerl.experiments.prune_session import prune_run
from prunerl.loop import History, LoopConfig

pytestmark = pytest.mark.slow


def dense_run(out: Path, algo: str, steps: int, seed: int, **agent: Any) -> Path:
    torch.set_num_threads(1)
    config = {
        "env_id": "CartPole-v1",
        "algo": algo,
        "total_steps": steps,
        "seed": seed,
        "agent": agent,
        "eval": {"episodes": 10},
        "logging": {"quiet": True},
    }
    train(build_config(config), out=out)
    return out


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PPO with the RL-Zoo CartPole settings and 256-unit layers (40k env steps)."""
    return dense_run(
        tmp_path_factory.mktemp("ppo") / "dense", "ppo", 40_000, 1, net_arch=[256, 256]
    )


def reaches_95(source: Path, out: Path, **changes: Any) -> dict[str, Any]:
    config = LoopConfig(
        target=0.95,
        tolerance=0.05,
        eval_episodes=20,
        threshold=475.0,  # train on first if the dense run is not there yet
        **{"budget": 150_000, **changes},
    )
    summary = prune_run(source, config, out)
    history = History.read_csv(out / "history.csv")
    assert summary["stop_reason"] == "target_reached", summary["message"]
    assert summary["sparsity"] >= 0.9499  # 95% up to rounding to whole weights per layer
    assert summary["gate_final"]["mean"] >= 475  # on the gate's episode seeds
    assert summary["final_return_mean"] >= 475  # on 20 held-out episodes
    assert all(r.return_mean >= 475 for r in history if r.accepted)
    return summary


def test_ppo_reaches_95_percent_sparsity_within_tolerance(ppo_run: Path, tmp_path: Path) -> None:
    reaches_95(ppo_run, tmp_path / "p95", finetune_steps=8192, finetune_chunks=4)


def test_aggressive_first_step_is_rolled_back_then_a_smaller_one_accepted(
    ppo_run: Path, tmp_path: Path
) -> None:
    config = LoopConfig(
        target=0.995,
        step=0.99,
        max_step=0.99,
        finetune_steps=0,
        eval_episodes=10,
        max_iterations=2,
    )
    prune_run(ppo_run, config, tmp_path / "aggressive")
    history = History.read_csv(tmp_path / "aggressive" / "history.csv")
    first, second = history[1], history[2]
    assert first.action == "rollback" and first.sparsity >= 0.98
    assert "below tolerance" in first.reason and "step shrinks to 0.495" in first.reason
    assert second.action == "accept" and second.step == pytest.approx(first.step / 2)
    assert second.sparsity_before == 0.0 and 0.45 < second.sparsity < first.sparsity


def test_dqn_reaches_95_percent_sparsity_within_tolerance(tmp_path: Path) -> None:
    source = dense_run(tmp_path / "dense", "dqn", 40_000, 0)
    # DQN's fine-tuning is noisy (and its trajectory differs from one process to the next at
    # the level of float rounding): a rejected step is retried once with twice the fine-tuning
    # before it is halved, and the loop may creep on in steps down to 0.5% of the remaining
    # weights (runs stopped at 94.6% with a 2% floor). Runs reach 95% after 134k env steps of
    # fine-tuning, or sit at 94.6% at 144k: the budget leaves room for those last steps.
    reaches_95(
        source, tmp_path / "p95", finetune_steps=6000, finetune_chunks=3, train_longer=1,
        min_step=0.005, budget=250_000,
    )  # fmt: skip
