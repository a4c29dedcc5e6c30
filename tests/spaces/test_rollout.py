"""Common random numbers: an episode replays exactly, whatever runs beside it, and a run leaves
the caller's global random generators where they were."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from prunerl.rl.dqn import DQN, DQNConfig
from prunerl.spaces import prune_observations
from prunerl.spaces.paired import PairedEvidence
from prunerl.spaces.rollout import EpisodeRunner

GLOBAL_NOISE = {"noise_source": "global", "n_distractors": 3}


def first_bit(obs: np.ndarray) -> np.ndarray:
    """Guess signal 0's sign only; the draws of numpy's global generator decide the rest."""
    return (obs[:, 0] > 0).astype(np.int64)


def test_global_noise_replays_per_episode_alone_or_beside_others() -> None:
    runner = EpisodeRunner("prunerl/SignMatch-v0", GLOBAL_NOISE, episodes=4, seed=3)
    a = runner.run(first_bit, record=True)
    b = runner.run(first_bit)
    np.testing.assert_array_equal(a.returns, b.returns)
    later = runner.run(first_bit, episodes=range(2, 6)).returns
    np.testing.assert_array_equal(later[:2], a.returns[2:])  # same episode, other neighbours
    assert np.ptp(a.returns) > 1.0  # the episodes do differ from one another (reward noise)
    assert a.observations is not None and a.observations.shape == (4 * 50, 6)


def test_a_run_leaves_the_callers_generators_alone() -> None:
    runner = EpisodeRunner("prunerl/SignMatch-v0", GLOBAL_NOISE, episodes=2, seed=0)
    np.random.seed(11)
    torch.manual_seed(11)
    runner.run(first_bit)
    after = np.random.random(), float(torch.rand(1))
    np.random.seed(11)
    torch.manual_seed(11)
    assert after == (np.random.random(), float(torch.rand(1)))


class Unseeded(gym.Env[np.ndarray, np.int64]):
    """Reward noise from a generator seeded once, at construction: no reset seed replays it."""

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.noise = np.random.default_rng()
        self.t = 0

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.5, 0.0], np.float32), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        obs = np.array([0.5, 0.0], np.float32)
        return obs, float(self.noise.normal()), False, self.t >= 10, {}


if "prunerl-test/Unseeded-v0" not in gym.registry:
    gym.register("prunerl-test/Unseeded-v0", entry_point=Unseeded)


def test_an_env_that_does_not_replay_is_reported() -> None:
    runner = EpisodeRunner("prunerl-test/Unseeded-v0", episodes=3)
    policy = lambda obs: np.zeros(len(obs), dtype=np.int64)  # noqa: E731
    assert not PairedEvidence(runner, policy, runner.run(policy).returns).replays()
    replaying = EpisodeRunner("prunerl/SignMatch-v0", GLOBAL_NOISE, episodes=3)
    assert PairedEvidence(replaying, first_bit, replaying.run(first_bit).returns).replays()
    agent = DQN("prunerl-test/Unseeded-v0", DQNConfig(net_arch=(), buffer_size=64))
    with pytest.warns(UserWarning, match="do not replay exactly"):
        result = prune_observations(agent, "permutation", k=1, episodes=3)
    assert result.replays is False
