"""Fast unit tests of the DQN agent: shapes, targets, masks, determinism, errors."""

from __future__ import annotations

import io
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from prunerl.core import PruningConfig
from prunerl.rl import Callback, agents
from prunerl.rl.buffers import Batch
from prunerl.rl.dqn import DQN, DQNConfig

torch.set_num_threads(1)

SMALL = dict(
    net_arch=(32, 32),
    learning_starts=100,
    batch_size=16,
    train_freq=4,
    gradient_steps=2,
    target_update_interval=50,
    buffer_size=5_000,
)


def small(**overrides: Any) -> DQNConfig:
    return DQNConfig(**{**SMALL, **overrides})


def flat_weights(agent: DQN, name: str = "q") -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in agent.networks[name].parameters()])


def test_registered_and_tuned_defaults() -> None:
    assert agents.get("dqn") is DQN
    assert DQNConfig.for_env("CartPole-v1") != DQNConfig()
    assert DQNConfig.for_env("SomeUnknownEnv-v0") == DQNConfig()
    agent = DQN("CartPole-v1")
    assert agent.config == DQNConfig.for_env("CartPole-v1")


def test_q_network_shapes_and_predict() -> None:
    agent = DQN("CartPole-v1", small(), seed=0)
    obs = np.zeros((5, 4), dtype=np.float32)
    assert agent.q_values(obs).shape == (5, 2)
    actions = agent.predict(obs)
    assert actions.shape == (5,) and set(actions.tolist()) <= {0, 1}
    assert np.ndim(agent.predict(obs[0])) == 0
    assert agent.policy_network() is agent.networks["q"]
    assert agent.observation_space.shape == (4,)


def test_dueling_network_is_built() -> None:
    agent = DQN("CartPole-v1", small(dueling=True), seed=0)
    assert hasattr(agent.networks["q"], "advantage")
    agent.learn(300)
    assert agent.num_updates > 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("tau", 0.0), ("batch_size", 0), ("loss", "l1"), ("gamma", 1.5), ("gradient_steps", -1)],
)
def test_bad_config_is_rejected(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        small(**{field: value})


def test_continuous_actions_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"Discrete action space.*sac"):
        DQN("Pendulum-v1", small())


def test_hard_and_polyak_target_updates() -> None:
    agent = DQN("CartPole-v1", small(), seed=0)
    with torch.no_grad():
        for p in agent.networks["q"].parameters():
            p.add_(1.0)
    before = flat_weights(agent, "q_target")
    agent.config.tau = 0.25
    agent.update_target()
    online = flat_weights(agent, "q")
    assert torch.allclose(flat_weights(agent, "q_target"), 0.75 * before + 0.25 * online)
    agent.config.tau = 1.0
    agent.update_target()
    assert torch.equal(flat_weights(agent, "q_target"), online)


def _hand_batch() -> Batch:
    return Batch(
        obs=torch.zeros(3, 4),
        actions=torch.zeros(3, dtype=torch.int64),
        rewards=torch.tensor([1.0, 0.5, -1.0]),
        next_obs=torch.randn(3, 4),
        terminated=torch.tensor([0.0, 1.0, 0.0]),
    )


@pytest.mark.parametrize("double_q", [False, True])
def test_td_target_matches_hand_computation(double_q: bool) -> None:
    agent = DQN("CartPole-v1", small(double_q=double_q, gamma=0.9), seed=0)
    with torch.no_grad():  # make online and target networks disagree
        for p in agent.networks["q_target"].parameters():
            p.mul_(-0.5)
    batch = _hand_batch()
    online = agent.networks["q"](batch.next_obs).detach()
    target = agent.networks["q_target"](batch.next_obs).detach()
    expected = []
    for i in range(3):
        a = int(online[i].argmax()) if double_q else int(target[i].argmax())
        bootstrap = 0.0 if batch.terminated[i] else 0.9 * float(target[i, a])
        expected.append(float(batch.rewards[i]) + bootstrap)
    assert torch.allclose(agent.td_target(batch), torch.tensor(expected), atol=1e-6)


def test_masks_hold_in_online_and_target_networks() -> None:
    pruning = PruningConfig(
        method="gmp", sparsity=0.8, begin_step=200, end_step=1_000, update_every=100
    )
    agent = DQN("CartPole-v1", small(tau=0.5, target_update_interval=4), pruning=pruning)
    agent.learn(1_500)
    assert agent.pruner is not None
    assert agent.pruner.sparsity() == pytest.approx(0.8, abs=0.01)
    checked = 0
    for name in ("q", "q_target"):
        for module in agent.networks[name].modules():
            mask = getattr(module, "weight_mask", None)
            if mask is not None:
                assert (module.weight.detach()[~mask] == 0).all()
                checked += 1
    assert checked == 6


def test_same_seed_gives_identical_weights() -> None:
    runs = [DQN("CartPole-v1", small(), seed=3).learn(2_000) for _ in range(2)]
    other = DQN("CartPole-v1", small(), seed=4).learn(2_000)
    assert torch.equal(flat_weights(runs[0]), flat_weights(runs[1]))
    assert not torch.equal(flat_weights(runs[0]), flat_weights(other))


class Recorder(Callback):
    def __init__(self, stop_at: int) -> None:
        self.stop_at = stop_at
        self.events: dict[str, int] = {"start": 0, "episode": 0, "update": 0, "end": 0}
        self.metrics: dict[str, float] = {}

    def on_training_start(self, agent: Any) -> None:
        self.events["start"] += 1

    def on_step(self, agent: Any) -> bool:
        return bool(agent.num_timesteps < self.stop_at)

    def on_episode(self, agent: Any, episode_return: float, length: int) -> None:
        assert episode_return == length  # CartPole pays 1 per step
        self.events["episode"] += 1

    def on_update(self, agent: Any, metrics: dict[str, float]) -> None:
        self.events["update"] += 1
        self.metrics = metrics

    def on_training_end(self, agent: Any) -> None:
        self.events["end"] += 1


def test_callbacks_are_called_and_can_stop_training() -> None:
    rec = Recorder(stop_at=700)
    agent = DQN("CartPole-v1", small(), seed=0).learn(2_000, callback=rec)
    assert agent.num_timesteps == 700
    assert rec.events["start"] == rec.events["end"] == 1
    assert rec.events["episode"] > 0 and rec.events["update"] == (700 - 100) // 4
    assert {"loss", "q_mean", "epsilon", "learning_rate"} <= set(rec.metrics)
    agent.learn(900)  # resumes from 700
    assert agent.num_timesteps == 900


def test_learning_rate_decays_linearly() -> None:
    agent = DQN("CartPole-v1", small(learning_rate=1e-3, final_learning_rate=1e-5), seed=0)
    agent.learn(1_000)
    lr = agent.optimizers["q"].param_groups[0]["lr"]
    assert lr == pytest.approx(1e-5, rel=1e-6)


def test_state_dict_round_trip_with_weights_only_load() -> None:
    pruning = PruningConfig(method="gmp", sparsity=0.5, begin_step=100, end_step=300)
    agent = DQN("CartPole-v1", small(), pruning=pruning, seed=1).learn(500)
    buf = io.BytesIO()
    torch.save(agent.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    fresh = DQN("CartPole-v1", small(), pruning=pruning, seed=2)
    fresh.load_state_dict(state)
    assert torch.equal(flat_weights(fresh), flat_weights(agent))
    assert fresh.num_timesteps == 500
    obs = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    assert np.array_equal(fresh.predict(obs), agent.predict(obs))


class TinyImageEnv(gym.Env[np.ndarray, int]):
    """84x84 uint8 frames; reward 1 for action 1; ten steps per episode."""

    observation_space = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    action_space = gym.spaces.Discrete(3)

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.integers(0, 256, (4, 84, 84), dtype=np.uint8), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        obs = self.np_random.integers(0, 256, (4, 84, 84), dtype=np.uint8)
        return obs, float(action == 1), False, self.t >= 10, {}


def test_image_observations_use_nature_cnn_and_uint8_buffer() -> None:
    if "prunerl-test/TinyImage-v0" not in gym.registry:
        gym.register("prunerl-test/TinyImage-v0", entry_point=TinyImageEnv)
    config = small(learning_starts=32, batch_size=4, buffer_size=200)
    agent = DQN("prunerl-test/TinyImage-v0", config, seed=0).learn(80)
    assert agent.buffer.obs.dtype == np.uint8
    assert isinstance(agent.networks["q"][0], torch.nn.Conv2d)
    assert agent.q_values(agent.buffer.obs[:2]).shape == (2, 3)
    assert agent.num_updates > 0
    with pytest.raises(ValueError, match="dueling"):
        DQN("prunerl-test/TinyImage-v0", small(dueling=True))


def test_observation_normalisation_follows_data_and_is_checkpointed() -> None:
    agent = DQN("CartPole-v1", small(normalize_obs=True), seed=0).learn(600)
    assert agent.obs_normalizer is not None
    rms = agent.obs_normalizer.rms
    stored = agent.buffer.obs[:600]
    assert np.allclose(rms.mean, stored.mean(axis=0), atol=1e-4)
    whitened = agent._to_input(torch.as_tensor(stored))
    assert torch.allclose(whitened.mean(0), torch.zeros(4), atol=1e-3)
    assert torch.allclose(whitened.std(0), torch.ones(4), atol=1e-2)
    fresh = DQN("CartPole-v1", small(normalize_obs=True), seed=5)
    fresh.load_state_dict(agent.state_dict())
    obs = stored[:16]
    assert np.array_equal(fresh.predict(obs), agent.predict(obs))
    assert torch.equal(fresh.q_values(obs), agent.q_values(obs))


def test_n_step_transitions_carry_discounted_returns_and_discounts() -> None:
    agent = DQN("CartPole-v1", small(n_step=3, gamma=0.5, learning_starts=10_000), seed=0)
    agent.learn(200)
    buf = agent.buffer
    assert buf.discounts is not None
    n = len(buf)
    # mid-episode transitions: 1 + 0.5 + 0.25, discount 0.5**3; episode ends: shorter sums
    full = np.isclose(buf.discounts[:n], 0.125)
    assert full.mean() > 0.5
    assert np.allclose(buf.rewards[:n][full], 1.75)
    short = ~full
    assert np.allclose(buf.rewards[:n][short], 2 * (1 - buf.discounts[:n][short]))
    # the n-step obs/next_obs pairs are 3 env steps apart: next_obs of t is obs of t + 3
    assert np.array_equal(buf.next_obs[0], buf.obs[3])
    batch = buf.sample(8)
    target = agent.td_target(batch)
    with torch.no_grad():
        next_v = agent.networks["q_target"](batch.next_obs).max(1).values
    assert batch.discounts is not None
    expected = batch.rewards + batch.discounts * (1 - batch.terminated) * next_v
    assert torch.allclose(target, expected)
