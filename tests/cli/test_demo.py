"""``prunerl demo``: PPO dense vs pruned by the gated loop, smoke-tested on a small budget.

What the demo claims by construction is asserted; how far pruning gets is not (it depends on
the RL trajectory: docs/benchmarks.md has the numbers over seeds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.helpers import invoke
from prunerl.runtime import Policy


@pytest.mark.slow
def test_demo_small_budget(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = invoke("demo", "--steps", "3000", "--budget", "0", "--out", str(out))
    assert result.exit_code == 0, result.output
    for row in ("held-out episodes", "policy parameters", "latency, batch 1, numpy", "(1)"):
        assert row in result.output
    pruned = json.loads((out / "pruned" / "summary.json").read_text())
    check = pruned["verification"]
    assert pruned["status"] in ("verified", "fell_back")  # the loop's held-out guarantee
    assert check["mean"] >= check["threshold"] and check["episodes"] == 50
    dense_policy = Policy.load(out / "dense" / "export" / "policy.npz")
    pruned_policy = Policy.load(out / "pruned" / "export" / "policy.npz")
    assert pruned_policy.obs_shape == dense_policy.obs_shape == (4,)
    dense_bytes = (out / "dense" / "export" / "policy.npz").stat().st_size
    assert (out / "pruned" / "export" / "policy.npz").stat().st_size <= dense_bytes
    assert pruned["loop_env_steps"] == 0  # --budget 0: distillation only
