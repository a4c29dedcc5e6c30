"""``prunerl demo``: DQN dense vs pruned, smoke-tested on a small budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.helpers import invoke


def _check(out: Path, output: str) -> None:
    for label in ("dense", "gmp90"):
        assert label in output
        assert (out / label / "summary.json").is_file()
    pruned = json.loads((out / "gmp90" / "summary.json").read_text())
    dense = json.loads((out / "dense" / "summary.json").read_text())
    assert pruned["sparsity"] == pytest.approx(0.9, abs=0.01) and dense["sparsity"] == 0.0
    assert pruned["params_total"] == dense["params_total"]
    assert pruned["params_nonzero"] < 0.15 * dense["params_nonzero"]
    for row in ("final policy return", "best policy, held-out", "batch-1 latency µs"):
        assert row in output


def test_demo_small_budget_sequential(tmp_path: Path) -> None:
    pytest.importorskip("prunerl.rl.dqn")
    out = tmp_path / "demo"
    args = ("--steps", "2000", "--episodes", "2", "--sequential", "--out", str(out))
    result = invoke("demo", *args)
    assert result.exit_code == 0, result.output
    _check(out, result.output)


@pytest.mark.slow
def test_demo_small_budget_two_processes(tmp_path: Path) -> None:
    pytest.importorskip("prunerl.rl.dqn")
    out = tmp_path / "demo"
    result = invoke("demo", "--steps", "2000", "--episodes", "2", "--parallel", "--out", str(out))
    assert result.exit_code == 0, result.output
    _check(out, result.output)
