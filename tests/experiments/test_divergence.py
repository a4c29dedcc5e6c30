"""A run that meets a NaN stops with one line, exit code 3, and its last good checkpoint kept."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import torch

from cli.helpers import invoke
from prunerl.core.finite import NonFiniteError
from prunerl.experiments import build_config, resume, train
from prunerl.experiments.checkpoint import save_checkpoint
from prunerl.experiments.run_dir import RunDir
from prunerl.experiments.runner import build_agent
from rl.faulty import NAN_OBS, register

register()


def nan_run(at_step: int = 2500, total: int = 4000) -> dict[str, Any]:
    return {
        "env_id": NAN_OBS,
        "env_kwargs": {"at_step": at_step},
        "algo": "dqn",
        "total_steps": total,
        "agent": {"learning_starts": 200, "train_freq": 16, "gradient_steps": 4},
        "checkpoint": {"every": 1000},
        "eval": {"episodes": 2, "every": 1000},
        "logging": {"quiet": True},
    }


def test_a_nan_observation_stops_the_run_and_keeps_the_last_good_checkpoint(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    with pytest.raises(NonFiniteError) as info:
        train(build_config(nan_run()), out=out)
    message = str(info.value)
    assert message.startswith("observation[1] is NaN at env step 2500; check the environment")
    assert "keeps its last good checkpoint (env step 2000)" in message
    meta = json.loads((out / "checkpoints" / "last.json").read_text())
    assert meta["num_timesteps"] == 2000
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert all(torch.isfinite(v).all() for net in state["networks"].values() for v in net.values())
    assert not (out / "summary.json").exists()
    with open(out / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all("nan" not in v.lower() for row in rows for v in row.values())


def test_the_cli_prints_one_line_and_exits_with_3(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    args = ["train", "--env", NAN_OBS, "--algo", "dqn", "--steps", "1500", "-q"]
    sets = ["env_kwargs.at_step=1200", "agent.learning_starts=200", "checkpoint.every=500"]
    for item in sets:
        args += ["--set", item]
    result = invoke(*args, "--out", str(out))
    assert result.exit_code == 3, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "diverged: observation[1] is NaN at env step 1200"
    )


def poison(path: Path) -> None:
    state = torch.load(path, weights_only=True)
    weight = next(iter(state["networks"]["q"].values()))
    weight.view(-1)[3] = float("nan")
    torch.save(state, path)


def test_resume_refuses_a_poisoned_checkpoint(tmp_path: Path) -> None:
    config = build_config({**nan_run(at_step=10**9, total=3000), "env_id": "CartPole-v1"})
    config = config.model_copy(update={"env_kwargs": {}})
    _, agent = build_agent(config)
    run = RunDir.create(tmp_path / "r", False)
    (run.config).write_text(json.dumps(config.to_dict()))
    agent.learn(300)
    save_checkpoint(agent, run, "last", {"elapsed_s": 0.0})
    poison(run.checkpoint("last"))
    with pytest.raises(ValueError, match=r"is poisoned: q\..* is NaN .*diverged"):
        resume(run.path)


def test_a_non_finite_agent_is_never_written(tmp_path: Path) -> None:
    config = build_config({**nan_run(), "env_id": "CartPole-v1", "env_kwargs": {}})
    _, agent = build_agent(config)
    run = RunDir.create(tmp_path / "r", False)
    save_checkpoint(agent, run, "last", {})
    before = run.checkpoint("last").read_bytes()
    with torch.no_grad():
        next(agent.networks["q"].parameters()).view(-1)[0] = float("inf")
    with pytest.raises(NonFiniteError, match="not writing checkpoint 'last'"):
        save_checkpoint(agent, run, "last", {})
    assert run.checkpoint("last").read_bytes() == before
