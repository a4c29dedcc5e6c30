"""``prunerl train``: flags, --config/--set, run directories, resume, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cli.helpers import error_line, invoke
from experiments.double import DoubleAgent

QUICK = ("--env", "CartPole-v1", "--algo", "double", "--steps", "200", "--quiet")
FAST_EVAL = ("--set", "eval.episodes=2")


def _summary(run: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((run / "summary.json").read_text())


def test_flags_train_a_pruned_run(tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = invoke("train", *QUICK, "--prune", "gmp", "--sparsity", "0.5", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"run directory: {out}" in result.output
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["pruning"]["method"] == "gmp" and config["pruning"]["sparsity"] == 0.5
    assert (config["pruning"]["begin_step"], config["pruning"]["end_step"]) == (40, 150)
    assert _summary(out)["sparsity"] == pytest.approx(0.5, abs=0.01)


def test_progress_bar_and_summary_line_when_not_quiet(tmp_path: Path) -> None:
    args = ["--env", "CartPole-v1", "--algo", "double", "--steps", "100", *FAST_EVAL]
    result = invoke("train", *args, "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert "double CartPole-v1" in result.output  # the bar's label
    assert "over 2 episodes" in result.output and "sparsity 0.0%" in result.output


def test_config_file_set_overrides_and_rerun_from_config_yaml(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        "env_id: CartPole-v1\nalgo: double\ntotal_steps: 500\n"
        "pruning: {method: magnitude, sparsity: 0.7}\neval: {episodes: 2}\n"
    )
    a = tmp_path / "a"
    result = invoke(
        "train", "--config", str(cfg), "--set", "total_steps=150", "--out", str(a), "-q"
    )
    assert result.exit_code == 0, result.output
    first = _summary(a)
    assert first["total_env_steps"] == 150 and first["pruning_method"] == "magnitude"
    b = tmp_path / "b"
    assert invoke("train", "--config", str(a / "config.yaml"), "--out", str(b), "-q").exit_code == 0
    assert _summary(b)["final_returns"] == first["final_returns"]
    assert _summary(b)["sparsity_per_layer"] == first["sparsity_per_layer"]


def test_prune_none_and_gym_packages_rl_zoo_style(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("pruning: {method: gmp, sparsity: 0.5}\n")
    out = tmp_path / "r"
    args = ("--config", str(cfg), "--prune", "none", "--gym-packages", "json", "csv")
    result = invoke("train", *QUICK, *FAST_EVAL, *args, "--out", str(out))
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["pruning"] is None and config["gym_packages"] == ["json", "csv"]


BAD_INPUTS = [
    (["--env", "CartPol-v1", "--algo", "double", "--steps", "9"], "Did you mean 'CartPole-v1'"),
    (["--env", "Pendulum-v1", "--algo", "dqn", "--steps", "9"], "use 'sac' or 'ppo'"),
    ([*QUICK, "--set", "evaluation.episodes=3"], "unknown config key 'evaluation'; valid keys"),
    ([*QUICK, "--set", "agent.lr=0.1"], "unknown double hyperparameter(s) ['lr']"),
    ([*QUICK, "--sparsity", "1.0"], "sparsity must be in [0, 1), got 1.0"),
    ([*QUICK, "--prune", "gmq"], "Did you mean 'gmp'"),
    (["--env", "CartPole-v1", "--algo", "double"], "give --steps N"),
    ([*QUICK, "--algo", "dqm"], "unknown algorithm 'dqm'"),
    ([*QUICK, "--gym-packages", "no_such_module_xyz"], "cannot import gym package"),
    ([*QUICK, "stray"], "unexpected argument(s) ['stray']"),
    ([*QUICK, "--set", "seed"], "--set expects key=value"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_no_run_dir(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "r"
    result = invoke("train", *args, "--out", str(out))
    assert result.exit_code == 2
    assert message in error_line(result)
    assert not out.exists()


def test_unknown_key_in_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("env_id: CartPole-v1\nalgo: double\ntotal_steps: 10\nchekpoint: {every: 5}\n")
    result = invoke("train", "--config", str(cfg), "--out", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert "unknown config key 'chekpoint'; valid keys here: env_id" in error_line(result)


def test_existing_run_is_kept_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert invoke("train", *QUICK, *FAST_EVAL, "--out", str(out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    result = invoke("train", *QUICK, *FAST_EVAL, "--seed", "5", "--out", str(out))
    assert result.exit_code == 2
    assert "already holds a run; pass --overwrite" in error_line(result)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    result = invoke("train", *QUICK, *FAST_EVAL, "--seed", "5", "--out", str(out), "--overwrite")
    assert result.exit_code == 0 and _summary(out)["seed"] == 5


def test_ctrl_c_checkpoints_exits_130_and_resume_finishes(tmp_path: Path) -> None:
    out = tmp_path / "r"
    DoubleAgent.interrupt_at = 120  # SIGINT to this process, as Ctrl-C does
    result = invoke("train", *QUICK, *FAST_EVAL, "--out", str(out))
    assert result.exit_code == 130
    assert f"prunerl train --resume {out}" in result.stderr
    assert json.loads((out / "checkpoints" / "last.json").read_text())["num_timesteps"] == 120
    assert not (out / "summary.json").exists()
    DoubleAgent.interrupt_at = None
    result = invoke("train", "--resume", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert _summary(out)["total_env_steps"] == 200


def test_resume_errors_leave_runs_untouched(tmp_path: Path) -> None:
    out = tmp_path / "r"
    DoubleAgent.raise_at = 120
    assert invoke("train", *QUICK, *FAST_EVAL, "--out", str(out)).exit_code == 130
    DoubleAgent.raise_at = None
    config = yaml.safe_load((out / "config.yaml").read_text())
    edited = {**config, "agent": {**config["agent"], "hidden": [7]}}
    (out / "config.yaml").write_text(yaml.safe_dump(edited))
    before = (out / "checkpoints" / "last.pt").read_bytes()
    result = invoke("train", "--resume", str(out))
    assert result.exit_code == 2 and "another architecture" in error_line(result)
    assert (out / "checkpoints" / "last.pt").read_bytes() == before
    result = invoke("train", "--resume", str(out), "--steps", "5")
    assert result.exit_code == 2 and "give no other options" in error_line(result)
    (out / "config.yaml").write_text(yaml.safe_dump(config))
    assert invoke("train", "--resume", str(out), "-q").exit_code == 0
    result = invoke("train", "--resume", str(out))
    assert result.exit_code == 2 and "already finished" in error_line(result)
    (tmp_path / "other").mkdir()
    result = invoke("train", "--resume", str(tmp_path / "other"))
    assert result.exit_code == 2 and "not a prunerl run directory" in error_line(result)


def test_threads_flag_sets_torch_threads_and_is_recorded(tmp_path: Path) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        out = tmp_path / "r"
        result = invoke("train", *QUICK, *FAST_EVAL, "--threads", "2", "--out", str(out))
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == 2
        assert yaml.safe_load((out / "config.yaml").read_text())["threads"] == 2
        bad = invoke("train", *QUICK, "--threads", "0", "--out", str(tmp_path / "bad"))
        assert bad.exit_code != 0 and "threads" in error_line(bad)
    finally:
        torch.set_num_threads(before)
