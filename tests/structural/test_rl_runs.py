"""Structural pruning from the run config (`pruning.structured`) and the CLI, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner, Result

from prunerl.cli.main import app
from prunerl.experiments import build_config, resume
from prunerl.experiments.runner import run_tag

torch.set_num_threads(1)

BASE = {"env_id": "CartPole-v1", "algo": "dqn", "total_steps": 1000}
SMALL = (
    "--set", "agent.net_arch=[32, 32]", "--set", "agent.learning_starts=100",
    "--set", "agent.train_freq=4", "--set", "agent.gradient_steps=1",
    "--set", "agent.batch_size=16", "--set", "agent.buffer_size=2000",
    "--set", "eval.episodes=2", "--set", "eval.every=100", "--set", "checkpoint.every=100",
)  # fmt: skip


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "1000"})


def test_structured_section_resolves_like_the_core_section() -> None:
    config = build_config({**BASE, "pruning": {"structured": {"sparsity": 0.75}}})
    assert config.pruning_config() is None
    structured = config.structured_config()
    assert structured is not None and structured.sparsity == 0.75
    assert (structured.begin_step, structured.end_step) == (200, 750)
    assert structured.schedule == "polynomial" and structured.importance == "l1"
    assert run_tag(config) == "neurons75"
    hybrid = build_config(
        {**BASE, "pruning": {"method": "gmp", "sparsity": 0.5, "structured": {"sparsity": 0.5}}}
    )
    weights = hybrid.pruning_config()
    assert weights is not None and weights.method == "gmp" and weights.end_step == 750
    assert hybrid.structured_config() is not None and run_tag(hybrid) == "gmp50-neurons50"
    one_shot = build_config({**BASE, "pruning": {"structured": {"schedule": "one_shot"}}})
    assert one_shot.structured_config().begin_step == 750  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"structured": {"sparsty": 0.5}}, "unknown structured pruning option"),
        ({"structured": {"sparsity": 1.2}}, "must be in [0, 1)"),
        ({"structured": {"end_step": 5000}}, "beyond total_steps"),
        ({"structured": 0.5}, "must be a mapping"),
        ({"structured": {}, "networks": ["q"]}, "pruning.structured.networks"),
    ],
)
def test_bad_structured_sections_are_one_clear_error(section: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(")", r"\)")):
        build_config({**BASE, "pruning": section})


def test_train_cut_summary_export_evaluate_and_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = invoke(
        "train", "--env", "CartPole-v1", "--algo", "dqn", "--steps", "400", "-q",
        "--set", "pruning.structured.sparsity=0.75", "--set", "pruning.structured.end_step=300",
        *SMALL, "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    info = summary["structured"]
    assert info["architecture"] == {"q": {"before": [32, 32, 1, 2], "after": [8, 8, 1, 2]}}
    assert info["neuron_sparsity"] == pytest.approx(0.75) and info["cut_step"] == 300
    assert info["export_bytes"]["npz"] > 0 and info["export_bytes"]["torchscript"] > 0
    assert summary["params_total"] == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 1 + 1 + 8 * 2 + 2  # dueling
    best = json.loads((out / "checkpoints" / "best.json").read_text())
    assert best["num_timesteps"] >= 300  # only policies after the cut can be the best
    exported = invoke("export", str(out), "--format", "npz")
    assert exported.exit_code == 0, exported.output
    assert "layer widths [8, 8, 1, 2], cut" in exported.output
    evaluated = invoke("evaluate", str(out), "-n", "2", "--json")
    assert evaluated.exit_code == 0, evaluated.output
    # a longer budget: resume loads the cut checkpoint into a freshly built agent and trains on
    config = yaml.safe_load((out / "config.yaml").read_text())
    config["total_steps"] = 600
    (out / "config.yaml").write_text(yaml.safe_dump(config))
    (out / "summary.json").unlink()
    again = resume(out, quiet=True)
    assert again["total_env_steps"] == 600
    assert again["structured"]["architecture"]["q"]["after"] == [8, 8, 1, 2]
