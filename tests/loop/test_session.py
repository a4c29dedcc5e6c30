"""Prune runs on disk: files written, a valid run directory, resume after Ctrl-C, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from experiments.double import DoubleAgent, tiny
from prunerl.experiments import RunDir, build_config, train
from prunerl.experiments import evaluate as evaluate_run
from prunerl.experiments.prune_session import PruneInterrupted, prune_run, resume_prune
from prunerl.experiments.run_dir import write_yaml
from prunerl.loop import History, LoopConfig


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short trained run of the test-double agent."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("src") / "run"
    train(build_config(tiny()), out=out)
    return out


def always_accept(**changes: Any) -> LoopConfig:
    """Every step passes (absolute tolerance far above any CartPole return)."""
    base: dict[str, Any] = {
        "target": 0.9,
        "tolerance": 1e4,
        "mode": "absolute",
        "evidence": "point",
        "eval_episodes": 3,
        "max_eval_episodes": 6,  # the reference's pool of selection episodes
        "holdout_episodes": 3,
        "finetune_steps": 40,
        "eval_before_finetune": False,
        "step": 0.6,
        "distribution": "uniform",
    }
    return LoopConfig(**{**base, **changes})


def test_prune_run_writes_a_complete_run_directory(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "pruned"
    summary = prune_run(source, always_accept(), out)
    files = {p.name for p in out.iterdir()}
    assert {"config.yaml", "prune.yaml", "history.csv", "summary.json", "checkpoints"} <= files
    assert json.loads((out / "summary.json").read_text())["sparsity"] == summary["sparsity"]
    assert summary["stop_reason"] == "target_reached" and summary["succeeded"]
    assert summary["sparsity"] == pytest.approx(0.9, abs=0.01)
    history = History.read_csv(out / "history.csv")
    assert [r.action for r in history] == ["reference"] + ["accept"] * 3 + ["verify"]
    assert summary["accepted_steps"] == 3 and summary["rollbacks"] == 0
    assert summary["loop_env_steps"] == 3 * 40
    assert summary["eval_seeds"][0] == 1_000_000  # held-out episodes for the final return
    assert (
        summary["status"] == "verified" and "the tolerance holds" in summary["verification_message"]
    )
    assert (out / "checkpoints" / "reference.pt").is_file()  # what a resume distils towards
    # a run like any other: `prunerl evaluate` rebuilds the agent and loads the pruned policy
    result = evaluate_run(out, episodes=2)
    assert result["sparsity"] == pytest.approx(summary["sparsity"])


def test_resume_after_ctrl_c_continues_to_the_same_history(source: Path, tmp_path: Path) -> None:
    config = always_accept()
    whole = prune_run(source, config, tmp_path / "whole")
    start = whole["total_env_steps"] - whole["loop_env_steps"]
    DoubleAgent.raise_at = start + 40 + 20  # in the second fine-tuning
    out = tmp_path / "cut"
    with pytest.raises(PruneInterrupted) as caught:
        prune_run(source, config, out)
    assert caught.value.args[0] == str(out)
    assert not (out / "summary.json").exists()
    rows = History.read_csv(out / "history.csv")
    assert [r.action for r in rows] == ["reference", "accept"]
    DoubleAgent.raise_at = None
    resumed = resume_prune(out)
    a, b = History.read_csv(out / "history.csv"), History.read_csv(tmp_path / "whole/history.csv")
    for r in (*a, *b):
        r.wall_s = 0.0
    assert a.to_csv() == b.to_csv()
    assert resumed["sparsity"] == whole["sparsity"]
    assert resumed["final_returns"] == whole["final_returns"]
    with pytest.raises(ValueError, match="already finished"):
        resume_prune(out)


def test_threshold_never_reached_keeps_everything(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "thr"
    summary = prune_run(source, always_accept(threshold=1e6, budget=80), out)
    assert summary["stop_reason"] == "threshold_not_reached" and not summary["succeeded"]
    assert "did not reach the threshold" in summary["message"]
    assert summary["loop_env_steps"] == 80 and summary["sparsity"] == 0.0
    assert [r.action for r in History.read_csv(out / "history.csv")] == [
        "reference",
        "train",
        "train",
    ]


def test_run_without_checkpoint_is_refused(source: Path, tmp_path: Path) -> None:
    bare = RunDir.create(tmp_path / "bare")
    write_yaml(bare.config, build_config(tiny()).to_dict())
    with pytest.raises(FileNotFoundError, match=r"has no checkpoint 'last'.*train the run first"):
        prune_run(bare.path, always_accept(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_target_below_current_sparsity_writes_nothing(source: Path, tmp_path: Path) -> None:
    first = tmp_path / "p60"
    prune_run(source, always_accept(target=0.6), first)
    with pytest.raises(ValueError, match="below the current sparsity"):
        prune_run(first, always_accept(target=0.3), tmp_path / "p30")
    assert not (tmp_path / "p30").exists()
    again = prune_run(first, always_accept(target=0.8), tmp_path / "p80")  # pruning further works
    assert again["reference"]["n"] == 6 and again["sparsity"] == pytest.approx(0.8, abs=0.01)


def test_sensitivity_sets_per_layer_targets(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "sens"
    summary = prune_run(source, always_accept(target=0.8), out, analyse=True)
    curves = json.loads((out / "sensitivity.json").read_text())
    assert set(curves["curves"]) == {"policy.0.weight", "policy.2.weight"}
    assert (out / "sensitivity.png").stat().st_size > 1000
    assert set(summary["target"]) == {"policy.0.weight", "policy.2.weight"}
    assert summary["sparsity"] == pytest.approx(0.8, abs=0.01)


def test_cut_off_before_the_first_checkpoint_starts_again(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    first = prune_run(source, always_accept(target=0.8), out, analyse=True)
    for name in ("summary.json", "history.csv", "sensitivity.json"):
        (out / name).unlink()
    for path in (out / "checkpoints").iterdir():
        path.unlink()
    write_yaml(
        out / "prune.yaml",
        {
            "source": {"run_dir": str(source), "checkpoint": "last", "sensitivity": True},
            "loop": always_accept(target=0.8).to_dict(),
        },
    )
    again = resume_prune(out)
    assert (out / "sensitivity.json").is_file()
    assert again["target"] == first["target"] and again["sparsity"] == first["sparsity"]
