"""The gated loop on whole neurons: masks held through training, rollback, the cut at the end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from experiments.double import tiny
from loop.test_subject import loop_config, small_dqn
from prunerl.experiments import build_config, train
from prunerl.experiments import evaluate as evaluate_run
from prunerl.loop import GatedPruner, History

pytest.importorskip("prunerl.rl.structured")
from prunerl.experiments.prune_session import prune_run
from prunerl.loop.structured import StructuredSubject


def hidden_rows_zero(agent: torch.nn.Module) -> int:
    """Hidden neurons of the first layer whose incoming weights and bias are all zero."""
    first = agent.networks["q"][0]
    dead = (first.weight == 0).all(dim=1) & (first.bias == 0)
    return int(dead.sum())


def test_neurons_are_masked_kept_through_training_and_cut() -> None:
    agent = small_dqn()
    subject = StructuredSubject(agent, loop_config(target=0.75, structured=True))
    assert subject.targets() == {"neurons": 0.75} and subject.sparsity() == 0.0
    subject.prune_to({"neurons": 0.5})
    assert subject.sparsity() == pytest.approx(0.5)
    assert hidden_rows_zero(agent) == 16  # half of the 32 first-layer neurons
    subject.train(200)
    assert hidden_rows_zero(agent) == 16 and subject.sparsity() == pytest.approx(0.5)
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    before = agent.q_values(obs)
    assert subject.finish()
    assert subject.architecture()["q"]["after"] == [16, 16, 2]
    assert torch.allclose(agent.q_values(obs), before, atol=1e-5)


def test_rollback_restores_the_neurons() -> None:
    agent = small_dqn()
    subject = StructuredSubject(agent, loop_config(target=0.75, structured=True))
    subject.prune_to({"neurons": 0.25})
    snap = subject.snapshot()
    subject.prune_to({"neurons": 0.75})
    subject.restore(snap)
    assert subject.sparsity() == pytest.approx(0.25) and hidden_rows_zero(agent) == 8


def test_the_loop_prunes_neurons_to_the_target() -> None:
    config = loop_config(
        target=0.5, structured=True, tolerance=1e4, mode="absolute", finetune_steps=20
    )
    result = GatedPruner(StructuredSubject(small_dqn(), config), config).run()
    assert result.stop_reason == "target_reached" and result.sparsity == pytest.approx(0.5)


def test_prune_run_structured_writes_a_smaller_network(tmp_path: Path) -> None:
    source = tmp_path / "src"
    train(build_config(tiny()), out=source)
    config = loop_config(
        target=0.5, structured=True, tolerance=1e4, mode="absolute", finetune_steps=20
    )
    out = tmp_path / "neurons"
    summary = prune_run(source, config, out)
    assert summary["pruned"] == "neurons" and summary["loop_sparsity"] == pytest.approx(0.5)
    assert summary["architecture"]["policy"] == {"before": [24, 2], "after": [12, 2]}
    assert summary["params_total"] < 4 * 24 + 24 + 24 * 2 + 2
    assert len(History.read_csv(out / "history.csv")) >= 2
    assert json.loads((out / "summary.json").read_text())["pruned"] == "neurons"
    assert evaluate_run(out, episodes=2)["episodes"] == 2  # the saved cut loads again
