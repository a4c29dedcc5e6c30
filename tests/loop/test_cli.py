"""``prunerl prune``: the happy path, resume after Ctrl-C, and one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from experiments.double import DoubleAgent, tiny
from prunerl.experiments import RunDir, build_config, train
from prunerl.experiments.run_dir import write_yaml
from prunerl.loop import History

from cli.helpers import error_line, invoke  # isort: skip

ACCEPT = ["--tolerance", "10000", "--mode", "absolute", "--evidence", "point", "--episodes", "3"]
ACCEPT += ["--max-episodes", "6", "--holdout-episodes", "3"]
FAST = ["--finetune-steps", "40", "--set", "eval_before_finetune=false", "--step", "0.6"]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("src") / "run"
    train(build_config(tiny()), out=out)
    return out


def test_prune_reaches_the_target_and_writes_the_run(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "p80"
    result = invoke("prune", str(source), "--target", "0.8", *ACCEPT, *FAST, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "target_reached" in result.stdout and f"run directory: {out}" in result.stdout
    assert "accept" in result.stdout  # one line per step
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sparsity"] == pytest.approx(0.8, abs=0.01)
    history = History.read_csv(out / "history.csv")
    assert len(history) == summary["iterations"] + 2 and history[-1].action == "verify"
    assert "verified: on 3 held-out episodes" in result.stdout


def test_ctrl_c_then_resume(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "cut"
    DoubleAgent.raise_at = 400 + 40 + 10
    result = invoke("prune", str(source), "--target", "0.9", *ACCEPT, *FAST, "--out", str(out))
    assert result.exit_code == 130
    assert f"prunerl prune {out} --resume" in result.stderr
    DoubleAgent.raise_at = None
    result = invoke("prune", str(out), "--resume", "-q")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text())["stop_reason"] == "target_reached"


def test_threshold_never_reached_is_a_clean_end(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "thr"
    args = ["--threshold", "1e6", "--budget", "80", "--out", str(out), "-q"]
    result = invoke("prune", str(source), *ACCEPT, *FAST, *args)
    assert result.exit_code == 0, result.output
    assert (
        "threshold_not_reached" in result.stdout and "did not reach the threshold" in result.stdout
    )
    assert (out / "history.csv").is_file() and (out / "summary.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tolerance", "-0.1"], "tolerance must be >= 0, got -0.1"),
        (["--target", "1.5"], "target"),
        (["--target", "actor"], "--target must be a sparsity"),
        (["--method", "rigl"], "gated loop prunes step by step"),
        (["--method", "magnitud"], "Did you mean 'magnitude'"),
        (["--structured", "--method", "apozz"], "is no neuron importance"),
        (["--structured", "--target", "policy=0.5"], "takes one target"),
        (["--sensitivity", "--structured"], "give one --target value and no --structured"),
        (["--set", "tolerence=0.1"], "unknown loop option"),
        (["--agent-set", "learning_rte=0.1"], "unknown double hyperparameter"),
    ],
)
def test_bad_options_give_one_line(
    source: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = invoke("prune", str(source), *args, "--out", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert message in error_line(result)
    assert not (tmp_path / "x").exists()


def test_target_below_the_current_sparsity(source: Path, tmp_path: Path) -> None:
    first = tmp_path / "p60"
    assert (
        invoke(
            "prune", str(source), "--target", "0.6", *ACCEPT, *FAST, "--out", str(first)
        ).exit_code
        == 0
    )
    result = invoke("prune", str(first), "--target", "0.3", "--out", str(tmp_path / "p30"))
    assert result.exit_code == 2
    assert "below the current sparsity" in error_line(result)


def test_run_without_checkpoint_and_missing_run(tmp_path: Path) -> None:
    bare = RunDir.create(tmp_path / "bare")
    write_yaml(bare.config, build_config(tiny()).to_dict())
    result = invoke("prune", str(bare.path), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "has no checkpoint 'last'" in error_line(result)
    result = invoke("prune", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "does not exist" in error_line(result)
