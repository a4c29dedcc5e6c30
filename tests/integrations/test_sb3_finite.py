"""The SB3 callback stops training at the env step where a NaN/Inf appears, with one line that
names the source, the step and the fix; it never masks a NaN into a zero."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import DQN, PPO

from prunerl.core.finite import NonFiniteError
from prunerl.integrations.sb3 import PruningCallback
from prunerl.integrations.sb3_checks import EnvStepCheck

torch.set_num_threads(1)

GMP = {"method": "gmp", "sparsity": 0.8, "begin_step": 20, "end_step": 100, "update_every": 20}


class NaNAfter(gym.Wrapper[np.ndarray, Any, np.ndarray, Any]):
    """CartPole whose observation entry 1 (or reward) turns NaN from env step ``after`` on,
    counting steps over episodes; reset observations too, so the step is exact either way."""

    def __init__(self, after: int, what: str = "obs") -> None:
        super().__init__(gym.make("CartPole-v1"))
        self.after, self.what, self.steps = after, what, 0

    def _poison(self, obs: np.ndarray) -> np.ndarray:
        if self.what == "obs" and self.steps >= self.after:
            obs = obs.copy()
            obs[1] = np.nan
        return obs

    def reset(self, **kw: Any) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(**kw)
        return self._poison(obs), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        if self.what == "reward" and self.steps >= self.after:
            reward = float("nan")
        return self._poison(obs), reward, terminated, truncated, info


def dqn(env: gym.Env, **kw: Any) -> DQN:
    policy_kwargs = {"net_arch": [16, 16], **kw.pop("policy_kwargs", {})}
    return DQN("MlpPolicy", env, learning_starts=10, train_freq=4, seed=0,
               policy_kwargs=policy_kwargs, **kw)  # fmt: skip


def test_dqn_stops_at_the_step_of_a_nan_observation() -> None:
    model, cb = dqn(NaNAfter(37)), PruningCallback(GMP)
    with pytest.raises(NonFiniteError, match=r"observation\[1\] is NaN at env step 37 \(env 0\); "
                       r"check the environment or wrap it"):  # fmt: skip
        model.learn(200, callback=cb)
    assert model.num_timesteps == 37
    assert model.replay_buffer is not None and model.replay_buffer.pos == 36  # never stored
    assert np.isfinite(model.replay_buffer.observations[:36]).all()
    assert cb._hooks == []  # removed although training ended by the exception


def test_dqn_stops_at_the_step_of_a_nan_reward() -> None:
    model = dqn(NaNAfter(25, what="reward"))
    with pytest.raises(NonFiniteError, match=r"^reward is NaN at env step 25 \(env 0\); check "):
        model.learn(200, callback=PruningCallback(GMP))
    assert model.num_timesteps == 25


def test_ppo_stops_at_the_step_of_a_nan_observation() -> None:
    model = PPO("MlpPolicy", NaNAfter(50), n_steps=32, batch_size=32, n_epochs=1, seed=0,
                policy_kwargs={"net_arch": [16, 16]})  # fmt: skip
    with pytest.raises(NonFiniteError, match=r"observation\[1\] is NaN at env step 50 "):
        model.learn(128, callback=PruningCallback(GMP))
    assert model.num_timesteps == 50  # in the second rollout, after one round of updates


def test_a_nan_reset_observation_stops_training_before_the_first_step() -> None:
    model = PPO("MlpPolicy", NaNAfter(0), n_steps=32, batch_size=32, seed=0)
    with pytest.raises(NonFiniteError, match=r"^observation\[1\] is NaN at env step 0 \(env 0\)"):
        model.learn(64, callback=PruningCallback(GMP))
    assert model.num_timesteps == 0


def test_diverged_weights_stop_training_after_the_round_of_updates() -> None:
    """An absurd learning rate overflows the weights; the NaN gradients that follow stay NaN
    through the masking, and the check after the round names the weight."""
    model = dqn(gym.make("CartPole-v1"), learning_rate=1e35,
                policy_kwargs={"optimizer_class": torch.optim.SGD})  # fmt: skip
    with pytest.raises(NonFiniteError, match=r"^weight q_net\.q_net\.\d\.(weight|bias)\[.*\] is "
                       r"(NaN|[+-]Inf) after the gradient steps at env step (\d+); the update "
                       r"diverged"):  # fmt: skip
        model.learn(400, callback=PruningCallback(GMP))
    step = model.num_timesteps
    assert step < 400 and step % 4 == 0  # stopped right after a round (train_freq=4)
    weights = torch.cat([p.flatten() for p in model.policy.q_net.parameters()])
    assert not torch.isfinite(weights).all()


def test_terminal_observations_are_checked_and_big_finite_values_pass() -> None:
    infos: list[dict[str, Any]] = [{}, {"terminal_observation": np.array([0.0, np.inf])}]
    with pytest.raises(NonFiniteError, match=r"^terminal observation\[1\] is \+Inf at env step 9 "
                       r"\(env 1\)"):  # fmt: skip
        EnvStepCheck()(np.zeros((2, 2)), np.zeros(2), np.array([False, True]), infos, 9)
    big = np.full((2, 3), 3e38, dtype=np.float32)  # near float32's max: finite, no error
    EnvStepCheck()(big, np.zeros(2, dtype=np.float32), np.zeros(2, dtype=bool), [{}, {}], 1)
    images = np.full((1, 4, 4), 255, dtype=np.uint8)  # integers are always finite
    EnvStepCheck()(images, np.zeros(1), np.zeros(1, dtype=bool), [{}], 1)


def test_checks_can_be_turned_off() -> None:
    model = dqn(NaNAfter(5, what="reward"))
    model.learn(40, callback=PruningCallback(GMP, check_finite=False))
    assert model.num_timesteps == 40
