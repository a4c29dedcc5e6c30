"""One seed, one machine: two runs of a real agent write the same metrics.csv and weights.

(Another CPU's float rounding may take another trajectory: this is a property of one machine.)
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import torch

from prunerl.experiments import build_config, train

TIMING = {"wall_s", "steps_per_s"}
RUNS: dict[str, dict[str, Any]] = {
    "dqn": {
        "total_steps": 1500,
        "agent": {"learning_starts": 200, "train_freq": 8, "gradient_steps": 4},
    },
    "ppo": {"total_steps": 2048},
}


def rows(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as f:
        return [{k: v for k, v in r.items() if k not in TIMING} for r in csv.DictReader(f)]


@pytest.mark.parametrize("algo", sorted(RUNS))
def test_same_seed_same_metrics(algo: str, tmp_path: Path) -> None:
    config = {
        "env_id": "CartPole-v1", "algo": algo, "seed": 7, "eval": {"episodes": 2},
        "pruning": {"method": "gmp", "sparsity": 0.8}, "logging": {"quiet": True}, **RUNS[algo],
    }  # fmt: skip
    for name in ("a", "b"):
        train(build_config(config), out=tmp_path / name)
    assert rows(tmp_path / "a") == rows(tmp_path / "b") and len(rows(tmp_path / "a")) >= 10
    assert any(r["loss"] for r in rows(tmp_path / "a"))
    a, b = (torch.load(tmp_path / n / "checkpoints/last.pt", weights_only=True) for n in "ab")
    for net, weights in a["networks"].items():
        for key, value in weights.items():
            assert torch.equal(value, b["networks"][net][key]), f"{net}.{key}"
