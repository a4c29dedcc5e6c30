"""``prunerl export`` and agent policy export: files that act like the agent, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner, Result

from prunerl.cli.main import app
from prunerl.core import PruningConfig
from prunerl.experiments.checkpoint import load_checkpoint, save_checkpoint
from prunerl.experiments.config import build_config
from prunerl.experiments.run_dir import RunDir, write_yaml
from prunerl.experiments.runner import build_agent
from prunerl.rl.export import export_agent, policy_spec
from prunerl.rl.ppo import PPO, PPOConfig
from prunerl.rl.structured import StructuredPruner
from prunerl.runtime import Policy

torch.set_num_threads(1)

AGENT = {
    "net_arch": [32, 32],
    "learning_starts": 100,
    "train_freq": 4,
    "gradient_steps": 1,
    "batch_size": 16,
    "buffer_size": 2000,
}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "1000"})


def one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def make_run(path: Path, weights: bool = False) -> RunDir:
    """A run directory whose last checkpoint holds a DQN with 75% of its neurons cut."""
    data = {"env_id": "CartPole-v1", "algo": "dqn", "total_steps": 400, "agent": AGENT}
    if weights:
        data["pruning"] = {"method": "magnitude", "sparsity": 0.5, "begin_step": 200}
    config, agent = build_agent(build_config(data))
    StructuredPruner(agent, sparsity=0.75, schedule="one_shot", begin_step=200)
    agent.learn(400, callback=agent.structured)
    run = RunDir.create(path)
    write_yaml(run.config, config.to_dict())
    save_checkpoint(agent, run, "last", {})
    return run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    return make_run(tmp_path_factory.mktemp("runs") / "cut", weights=True)


@pytest.mark.parametrize("fmt", ["npz", "torchscript", "onnx"])
def test_export_writes_the_cut_policy(run: RunDir, fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"policy.{fmt}"
    result = invoke("export", str(run.path), "--format", fmt, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "layer widths [8, 8, 1, 2], cut" in result.output and out.is_file()
    if fmt == "npz":
        data = {"env_id": "CartPole-v1", "algo": "dqn", "total_steps": 400, "agent": AGENT}
        _, agent = build_agent(build_config(data))
        agent.load_state_dict(load_checkpoint(run)[0])
        obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
        assert np.array_equal(Policy.load(out).act(obs), agent.predict(obs))


def test_default_path_and_csr(run: RunDir) -> None:
    dense = invoke("export", str(run.path))
    assert dense.exit_code == 0, dense.output
    default = run.path / "export" / "policy.npz"
    size = default.stat().st_size
    result = invoke("export", str(run.path), "--csr", "--out", str(run.path / "csr.npz"))
    assert result.exit_code == 0, result.output
    with np.load(run.path / "csr.npz") as data:
        assert any(k.endswith(".indptr") for k in data.files)
    assert size > 0


def test_errors_are_one_line_naming_the_fix(run: RunDir, tmp_path: Path) -> None:
    line = one_line_error(invoke("export", str(run.path), "--format", "tflite"))
    assert "unknown export format 'tflite'" in line and "npz" in line
    line = one_line_error(invoke("export", str(run.path), "--format", "onnx", "--csr"))
    assert "--csr" in line
    empty = RunDir.create(tmp_path / "empty")
    write_yaml(empty.config, {"env_id": "CartPole-v1", "algo": "dqn", "total_steps": 100})
    line = one_line_error(invoke("export", str(empty.path)))
    assert "no checkpoint 'last'" in line and "--resume" in line
    line = one_line_error(invoke("export", str(tmp_path / "nowhere")))
    assert "does not exist" in line


def test_ppo_export_folds_observation_normalisation(tmp_path: Path) -> None:
    config = PPOConfig(n_steps=32, num_envs=2, batch_size=32, normalize_obs=True)
    agent = PPO("Pendulum-v1", config, seed=0, pruning=PruningConfig(sparsity=0.5))
    StructuredPruner(agent, sparsity=0.5, schedule="one_shot", begin_step=64)
    agent.learn(128, callback=agent.structured)
    assert agent.structured is not None and agent.structured.is_cut
    spec = policy_spec(agent)
    assert spec.head == "identity" and spec.low == [-2.0] and spec.high == [2.0]
    policy = Policy.load(export_agent(agent, "npz", tmp_path / "ppo.npz"))
    obs = np.random.default_rng(1).normal(size=(32, 3)).astype(np.float32) * 3
    assert np.allclose(policy.act(obs), agent.predict(obs), atol=1e-5)


def test_discrete_ppo_export_acts_as_predict(tmp_path: Path) -> None:
    """PPO's predict runs numpy's tanh (rl.plain_mlp), the export its runtime's own: same acts."""
    config = PPOConfig(net_arch=(16, 16), n_steps=32, num_envs=2, batch_size=32)
    agent = PPO("CartPole-v1", config, seed=0, pruning=PruningConfig(sparsity=0.5)).learn(128)
    obs = np.random.default_rng(3).normal(size=(256, 4)).astype(np.float32)
    policy = Policy.load(export_agent(agent, "npz", tmp_path / "ppo.npz"))
    assert np.array_equal(policy.act(obs), agent.predict(obs))


def test_masked_agent_is_cut_before_export(tmp_path: Path) -> None:
    data = {"env_id": "CartPole-v1", "algo": "dqn", "total_steps": 300, "agent": AGENT}
    _, agent = build_agent(build_config(data))
    sp = StructuredPruner(agent, sparsity=0.5, schedule="one_shot", begin_step=150, cut=False)
    agent.learn(300, callback=sp)
    obs = np.random.default_rng(2).normal(size=(32, 4)).astype(np.float32)
    before = agent.predict(obs)
    path = export_agent(agent, "torchscript", tmp_path / "q.pt")
    assert sp.is_cut and path.is_file()
    assert np.array_equal(agent.predict(obs), before)


def test_export_checks_large_q_values_to_float32_precision(tmp_path: Path) -> None:
    """Trained Q-values reach the hundreds; an absolute 1e-5 check would reject exact exports."""
    data = {"env_id": "CartPole-v1", "algo": "dqn", "total_steps": 300, "agent": AGENT}
    _, agent = build_agent(build_config(data))
    with torch.no_grad():
        for p in agent.networks["q"].parameters():
            p.mul_(30.0)
    spec = policy_spec(agent)
    with torch.no_grad():
        assert float(spec.module(spec.example).abs().max()) > 1e3
    policy = Policy.load(export_agent(agent, "npz", tmp_path / "big.npz"))
    obs = spec.example.numpy()
    assert np.array_equal(policy.act(obs), agent.predict(obs))
