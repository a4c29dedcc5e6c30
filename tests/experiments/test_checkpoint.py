"""Checkpoints: weights-only loadable, atomic, complete (buffer, RNG) and checked on load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import prunerl.experiments.checkpoint as ckpt
from experiments.double import DoubleAgent, DoubleConfig
from prunerl.core import PruningConfig
from prunerl.experiments.checkpoint import load_checkpoint, restore_checkpoint, save_checkpoint
from prunerl.experiments.run_dir import RunDir


def _agent(hidden: tuple[int, ...] = (8,), steps: int = 50) -> DoubleAgent:
    pruning = PruningConfig(method="gmp", sparsity=0.5, begin_step=10, end_step=40, update_every=5)
    agent = DoubleAgent("CartPole-v1", DoubleConfig(hidden=hidden), pruning=pruning, seed=1)
    return agent.learn(steps)


def test_checkpoint_loads_with_weights_only_and_has_metadata(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "r")
    agent = _agent()
    save_checkpoint(agent, run, "last", {"note": 1})
    state = torch.load(run.checkpoint("last"), weights_only=True)
    assert state["counters"] == {"num_timesteps": 50, "num_updates": 50}
    assert state["pruner"]["masks"] and state["optimizers"]["policy"]["state"]
    meta = json.loads(run.checkpoint("last").with_suffix(".json").read_text())
    assert meta["num_timesteps"] == 50 and meta["algo"] == "double" and meta["run"] == {"note": 1}
    assert {"python", "numpy"} <= set(meta["global_rng"])


def test_restore_gives_an_identical_agent(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "r")
    agent = _agent()
    save_checkpoint(agent, run, "last", {})
    twin = DoubleAgent("CartPole-v1", DoubleConfig(hidden=(8,)), pruning=agent.pruning, seed=7)
    restore_checkpoint(twin, run, *load_checkpoint(run))
    assert twin.num_timesteps == 50 and twin.pruner is not None and agent.pruner is not None
    for name, net in agent.networks.items():
        other = twin.networks[name].state_dict()
        for k, v in net.state_dict().items():
            assert torch.equal(v, other[k]), (name, k)
    assert twin.pruner.sparsity() == pytest.approx(agent.pruner.sparsity())
    assert twin.rng.random() == agent.rng.random()


def test_crash_while_saving_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = RunDir.create(tmp_path / "r")
    agent = _agent(steps=20)
    save_checkpoint(agent, run, "last", {})
    before = run.checkpoint("last").read_bytes()
    agent.learn(40)

    def crash(obj: Any, f: Any) -> None:
        f.write(b"partial bytes")
        raise KeyboardInterrupt  # e.g. killed mid-write

    monkeypatch.setattr(ckpt.torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(agent, run, "last", {})
    monkeypatch.undo()
    assert run.checkpoint("last").read_bytes() == before
    state, meta = load_checkpoint(run)
    assert state["counters"]["num_timesteps"] == meta["num_timesteps"] == 20
    assert sorted(p.name for p in run.checkpoints.iterdir()) == ["last.json", "last.pt"]


def test_disagreeing_metadata_and_garbage_are_clear_errors(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "r")
    save_checkpoint(_agent(steps=20), run, "last", {})
    meta_path = run.checkpoint("last").with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "num_timesteps": 999}))
    with pytest.raises(ValueError, match="disagree"):
        load_checkpoint(run)
    run.checkpoint("last").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="unreadable"):
        load_checkpoint(run)
    with pytest.raises(FileNotFoundError, match="no checkpoint 'best'"):
        load_checkpoint(run, "best")


def test_checkpoint_from_another_architecture_is_refused(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "r")
    save_checkpoint(_agent(hidden=(8,), steps=10), run, "last", {})
    other = DoubleAgent("CartPole-v1", DoubleConfig(hidden=(12,)))
    with pytest.raises(ValueError, match="another architecture"):
        restore_checkpoint(other, run, *load_checkpoint(run))


def test_replay_buffer_round_trip(tmp_path: Path) -> None:
    dqn = pytest.importorskip("prunerl.rl.dqn")
    config = dqn.DQNConfig(net_arch=(16,), buffer_size=500, learning_starts=50, train_freq=10)
    agent = dqn.DQN("CartPole-v1", config, seed=2).learn(120)
    run = RunDir.create(tmp_path / "r")
    save_checkpoint(agent, run, "last", {}, keep_buffer=True)
    with np.load(run.checkpoint("last").with_suffix(".buffer.npz")) as saved:
        assert len(saved["obs"]) == 120  # only the filled rows are written
    twin = dqn.DQN("CartPole-v1", config, seed=5)
    restore_checkpoint(twin, run, *load_checkpoint(run))
    assert twin.buffer.pos == agent.buffer.pos == 120
    assert np.array_equal(twin.buffer.obs, agent.buffer.obs)
    assert np.array_equal(twin.buffer.sample(8).obs.numpy(), agent.buffer.sample(8).obs.numpy())
