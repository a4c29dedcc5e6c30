"""The runner: run directory contents, seeding, resume = uninterrupted, evaluate, bad input."""

from __future__ import annotations

import csv
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from experiments.double import DoubleAgent, tiny
from prunerl.experiments import TrainingInterrupted, build_config, evaluate, resume, train
from prunerl.experiments.callbacks import METRIC_COLUMNS
from prunerl.experiments.config import load_yaml
from prunerl.experiments.summary import SUMMARY_KEYS
from prunerl.rl.callbacks import Callback

PRUNED = {"method": "gmp", "sparsity": 0.6, "update_every": 20}
TIMING = {"wall_s", "steps_per_s"}


def _weights(run: Path) -> dict[str, torch.Tensor]:
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    return {f"{n}.{k}": v for n, net in state["networks"].items() for k, v in net.items()}


def _same_weights(a: Path, b: Path) -> bool:
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def _metrics(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k not in TIMING} for row in csv.DictReader(f)]


def _stable(summary: dict[str, Any]) -> dict[str, Any]:
    """Summary entries that do not depend on timing or the directory."""
    drop = ("wall", "latency", "per_s", "run_dir")
    return {k: v for k, v in summary.items() if not any(d in k for d in drop)}


def test_run_directory_holds_config_summary_metrics_checkpoints(tmp_path: Path) -> None:
    summary = train(build_config(tiny(pruning=PRUNED)), out=tmp_path / "run")
    run = tmp_path / "run"
    assert set(SUMMARY_KEYS) <= set(summary)
    assert json.loads((run / "summary.json").read_text()) == summary
    assert summary["total_env_steps"] == 400 and summary["eval_episodes"] == 3
    assert summary["eval_seeds"] == [10_000, 10_001, 10_002]
    assert summary["sparsity"] == pytest.approx(0.6, abs=0.01)
    assert set(summary["sparsity_per_layer"]) == {"policy.0.weight", "policy.2.weight"}
    assert summary["params_nonzero"] < summary["params_total"]
    assert summary["flops_sparse"] < summary["flops_dense"]
    assert [e["step"] for e in summary["evaluations"]] == [100, 200, 300, 400]
    evaluations = summary["evaluations"]
    assert [e["at_target"] for e in evaluations] == [False, False, True, True]  # gmp ends at 300
    assert summary["best_return_mean"] == max(e["mean"] for e in evaluations[2:])
    assert summary["best_return_mean"] >= summary["final_return_mean"]
    config = load_yaml(run / "config.yaml")
    assert config["agent"] == {"hidden": [24], "learning_rate": 0.01, "target_every": 10}
    assert config["pruning"]["end_step"] == 300  # resolved defaults are written out
    rows = _metrics(run)
    assert list(rows[0]) == [c for c in METRIC_COLUMNS if c not in TIMING]
    assert [int(r["env_step"]) for r in rows] == list(range(50, 401, 50))
    assert float(rows[-1]["sparsity"]) == pytest.approx(0.6, abs=0.01)
    assert rows[-1]["eval_return_mean"] != "" and rows[0]["loss"] != ""
    names = {p.name for p in (run / "checkpoints").iterdir()}
    assert {"last.pt", "last.json", "best.pt", "best.json"} <= names


def test_config_yaml_reruns_to_the_same_result(tmp_path: Path) -> None:
    first = train(build_config(tiny(pruning=PRUNED)), out=tmp_path / "a")
    again = train(build_config(load_yaml(tmp_path / "a" / "config.yaml")), out=tmp_path / "b")
    assert _stable(again) == _stable(first)
    assert _same_weights(tmp_path / "a", tmp_path / "b")
    train(build_config(tiny(pruning=PRUNED, seed=4)), out=tmp_path / "c")
    assert not _same_weights(tmp_path / "a", tmp_path / "c")


class _Crash(Callback):
    def on_step(self, agent: Any) -> bool:
        if agent.num_timesteps == 250:
            raise RuntimeError("power cut")
        return True


@pytest.mark.parametrize("how", ["ctrl-c", "raw-interrupt", "crash"])
def test_resume_continues_to_the_uninterrupted_result(tmp_path: Path, how: str) -> None:
    config = build_config(tiny(pruning=PRUNED))
    reference = train(config, out=tmp_path / "ref")
    callbacks: list[Callback] = []
    if how == "ctrl-c":
        DoubleAgent.interrupt_at = 250
    elif how == "raw-interrupt":
        DoubleAgent.raise_at = 250
    else:
        callbacks = [_Crash()]
    expected = TrainingInterrupted if how != "crash" else RuntimeError
    with pytest.raises(expected):
        train(config, out=tmp_path / "cut", callbacks=callbacks)
    DoubleAgent.interrupt_at = DoubleAgent.raise_at = None
    meta = json.loads((tmp_path / "cut" / "checkpoints" / "last.json").read_text())
    assert meta["num_timesteps"] == (250 if how != "crash" else 200)
    assert not (tmp_path / "cut" / "summary.json").exists()
    resumed = resume(tmp_path / "cut")
    assert _stable(resumed) == _stable(reference)
    assert _same_weights(tmp_path / "ref", tmp_path / "cut")
    if how != "raw-interrupt":  # a raw interrupt comes before that step's row was written
        assert _metrics(tmp_path / "cut") == _metrics(tmp_path / "ref")


def test_dqn_resume_after_ctrl_c_matches_uninterrupted(tmp_path: Path) -> None:
    pytest.importorskip("prunerl.rl.dqn")
    agent = {"net_arch": [32, 32], "learning_starts": 200, "train_freq": 16, "gradient_steps": 4}
    config = build_config(tiny(algo="dqn", total_steps=900, agent=agent, pruning=PRUNED))
    reference = train(config, out=tmp_path / "ref")

    class _CtrlC(Callback):
        def on_step(self, agent: Any) -> bool:
            if agent.num_timesteps == 555:
                os.kill(os.getpid(), signal.SIGINT)  # the runner's handler stops at this step
            return True

    with pytest.raises(TrainingInterrupted):
        train(config, out=tmp_path / "cut", callbacks=[_CtrlC()])
    resumed = resume(tmp_path / "cut")
    assert resumed["num_updates"] == reference["num_updates"] > 0
    assert _stable(resumed) == _stable(reference)
    assert _same_weights(tmp_path / "ref", tmp_path / "cut")


@pytest.mark.parametrize("algo", ["dqn", "sac", "ppo"])
def test_resume_after_a_crash_matches_uninterrupted(tmp_path: Path, algo: str) -> None:
    """A crash mid-episode (mid-rollout for PPO): the last periodic checkpoint must hold the
    current observation (and PPO's partial rollout)."""
    if algo == "ppo":
        env = "CartPole-v1"
        agent = {"net_arch": [16], "num_envs": 2, "n_steps": 64, "batch_size": 32, "n_epochs": 2}
    elif algo == "dqn":
        env = "CartPole-v1"
        agent = {"net_arch": [16], "learning_starts": 100, "train_freq": 8, "gradient_steps": 2}
    else:
        env = "Pendulum-v1"
        agent = {"net_arch": [16], "learning_starts": 100, "batch_size": 16}
    data = tiny(algo=algo, env_id=env, total_steps=500, agent=agent, pruning=PRUNED)
    config = build_config(data)
    reference = train(config, out=tmp_path / "ref")

    class _CrashMidEpisode(Callback):
        def on_step(self, agent: Any) -> bool:
            if agent.num_timesteps == 330:  # checkpoints every 100 steps: the last one is at 300
                raise RuntimeError("power cut")
            return True

    with pytest.raises(RuntimeError, match="power cut"):
        train(config, out=tmp_path / "cut", callbacks=[_CrashMidEpisode()])
    meta = json.loads((tmp_path / "cut" / "checkpoints" / "last.json").read_text())
    assert meta["num_timesteps"] == 300
    resumed = resume(tmp_path / "cut")
    assert _stable(resumed) == _stable(reference)
    assert _same_weights(tmp_path / "ref", tmp_path / "cut")


def test_resume_refuses_finished_foreign_and_checkpointless_runs(tmp_path: Path) -> None:
    train(build_config(tiny()), out=tmp_path / "done")
    with pytest.raises(ValueError, match="already finished"):
        resume(tmp_path / "done")
    (tmp_path / "foreign").mkdir()
    with pytest.raises(ValueError, match="not a prunerl run directory"):
        resume(tmp_path / "foreign")
    DoubleAgent.raise_at = 30  # before the first checkpoint
    with pytest.raises(TrainingInterrupted):
        train(build_config(tiny(checkpoint={"every": 1000})), out=tmp_path / "early")
    (tmp_path / "early" / "checkpoints" / "last.pt").unlink()
    with pytest.raises(ValueError, match=r"no checkpoint to resume from.*--overwrite"):
        resume(tmp_path / "early")


def test_resume_with_an_edited_architecture_is_refused_without_damage(tmp_path: Path) -> None:
    DoubleAgent.raise_at = 150
    with pytest.raises(TrainingInterrupted):
        train(build_config(tiny()), out=tmp_path / "r")
    config_path = tmp_path / "r" / "config.yaml"
    data = yaml.safe_load(config_path.read_text())
    data["agent"]["hidden"] = [64]
    config_path.write_text(yaml.safe_dump(data))
    before = (tmp_path / "r" / "checkpoints" / "last.pt").read_bytes()
    with pytest.raises(ValueError, match="another architecture"):
        resume(tmp_path / "r")
    assert (tmp_path / "r" / "checkpoints" / "last.pt").read_bytes() == before


def test_bad_input_fails_before_any_file_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Did you mean 'CartPole-v1'"):
        train(build_config(tiny(env_id="CartPole-v2")), out=tmp_path / "x")
    with pytest.raises(ValueError, match="Discrete action space"):
        train(build_config(tiny(env_id="Pendulum-v1")), out=tmp_path / "x")
    with pytest.raises(ValueError, match="no prunable network"):
        train(build_config(tiny(pruning={"networks": ["actor"]})), out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_evaluate_reloads_last_and_best_policies(tmp_path: Path) -> None:
    summary = train(build_config(tiny(pruning=PRUNED)), out=tmp_path / "r")
    last = evaluate(tmp_path / "r")
    assert last["return_mean"] == pytest.approx(summary["final_return_mean"])
    assert last["sparsity"] == pytest.approx(summary["sparsity"])
    best = evaluate(tmp_path / "r", checkpoint="best", episodes=3)
    assert best["return_mean"] == pytest.approx(summary["best_return_mean"])
    more = evaluate(tmp_path / "r", episodes=5, seed=1)
    assert more["eval_seeds"] == [1, 2, 3, 4, 5] and len(more["returns"]) == 5
    with pytest.raises(ValueError, match="'last' or 'best'"):
        evaluate(tmp_path / "r", checkpoint="final")


def test_a_best_policy_saved_after_the_resumed_checkpoint_stays_best(tmp_path: Path) -> None:
    config = build_config(tiny(eval={"episodes": 2, "every": 50}))
    with pytest.raises(RuntimeError):
        train(config, out=tmp_path / "r", callbacks=[_Crash()])  # last.pt at 200, crash at 250
    best = tmp_path / "r" / "checkpoints" / "best.json"
    meta = json.loads(best.read_text())
    assert meta["num_timesteps"] <= 250
    meta["num_timesteps"], meta["run"]["evaluator"]["best_mean"] = 240, 999.0  # "saved at 240"
    meta["run"]["evaluator"]["best_step"] = 240
    best.write_text(json.dumps(meta))
    summary = resume(tmp_path / "r")
    assert (summary["best_return_mean"], summary["best_step"]) == (999.0, 240)
