"""Sensitivity analysis: per-layer curves, safe levels, per-layer targets and the plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from loop.test_subject import loop_config, small_dqn
from prunerl.evaluation import summarize
from prunerl.loop import AgentSubject
from prunerl.loop.sensitivity import Sensitivity, layer_targets, sensitivity


def made_up() -> Sensitivity:
    """Three layers: robust (a), breaks above 0.5 (b), breaks at the first level (c)."""
    curve = {"a": [500, 500], "b": [500, 100], "c": [100, 500]}
    return Sensitivity(
        reference=summarize([500.0, 500.0]),
        sparsities=[0.5, 0.9],
        numel={"a": 100, "b": 300, "c": 100},
        curves={k: [summarize([v, v]) for v in values] for k, values in curve.items()},
    )


def test_safe_sparsity_is_the_last_level_before_the_first_failure() -> None:
    assert made_up().safe_sparsity(0.05) == {"a": 0.9, "b": 0.5, "c": 0.0}
    # an absolute tolerance of 400 lets every level pass
    assert made_up().safe_sparsity(400, mode="absolute") == {"a": 0.9, "b": 0.9, "c": 0.9}


def test_layer_targets_meet_the_overall_target_by_robustness() -> None:
    result = made_up()
    # within the 5% tolerance a, b, c are safe to 0.9, 0.5, 0: overall 0.48, scaled to 0.4
    targets = layer_targets(result, 0.4, 0.05)
    assert targets == pytest.approx({"a": 0.9 * 0.4 / 0.48, "b": 0.5 * 0.4 / 0.48, "c": 0.0})
    overall = sum(targets[k] * n for k, n in result.numel.items()) / 500
    assert overall == pytest.approx(0.4)
    # 0.6 needs more than the tolerance allows: the floor drops to the next measured return
    # (100), where every layer is safe to 0.9; scaled to 0.6 they share it equally
    assert layer_targets(result, 0.6, 0.05) == pytest.approx({"a": 0.6, "b": 0.6, "c": 0.6})
    with pytest.raises(ValueError, match=r"reach at most 0\.900 overall"):
        layer_targets(result, 0.95, 0.05)


class CountingSubject(AgentSubject):
    """Return = surviving weights of the first layer (a known function of the pruning)."""

    def evaluate(self, episodes: int, seed: int) -> np.ndarray:
        first = self.agent.networks["q"][0].weight
        return np.full(episodes, float((first != 0).sum()))


def test_sensitivity_prunes_one_layer_at_a_time_and_restores_it(tmp_path: Path) -> None:
    agent = small_dqn()
    subject = CountingSubject(agent, loop_config())
    before = [p.detach().clone() for p in agent.networks["q"].parameters()]
    result = sensitivity(subject, (0.5, 0.75), episodes=2)
    assert result.layers == ["q.0.weight", "q.2.weight", "q.4.weight"]
    assert result.numel == {"q.0.weight": 128, "q.2.weight": 1024, "q.4.weight": 64}
    assert result.values("q.0.weight") == [64.0, 32.0]  # its own pruning shows
    assert result.values("q.2.weight") == [128.0, 128.0]  # other layers leave it alone
    for a, b in zip(agent.networks["q"].parameters(), before, strict=True):
        assert torch.equal(a, b)
    assert set(result.to_dict()) >= {"reference", "curves", "sparsities", "numel"}
    path = tmp_path / "sens.png"
    result.plot(path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_sensitivity_rejects_bad_input() -> None:
    subject = AgentSubject(small_dqn(), loop_config())
    with pytest.raises(ValueError, match=r"sparsities must lie in \(0, 1\)"):
        sensitivity(subject, (0.5, 1.0))
    with pytest.raises(ValueError, match="unknown layer"):
        sensitivity(subject, (0.5,), layers=["q.9.weight"])
    gradient = AgentSubject(small_dqn(), loop_config(method="gradient"))
    with pytest.raises(ValueError, match="needs gradient statistics"):
        sensitivity(gradient, (0.5,))
