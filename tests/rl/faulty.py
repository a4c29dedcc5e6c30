"""Environments that go wrong on purpose: NaN observations, Inf or huge rewards after N steps."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

NAN_OBS = "prunerl-test/NaNObservationCartPole-v0"
INF_REWARD = "prunerl-test/InfRewardCartPole-v0"
HUGE_REWARD = "prunerl-test/HugeRewardCartPole-v0"
NAN_OBS_PENDULUM = "prunerl-test/NaNObservationPendulum-v0"


class GoesWrong(gym.Wrapper[Any, Any, Any, Any]):
    """From the ``at_step``-th env step on (counted over all episodes), observation ``feature``
    is NaN (``what="observation"``) or the reward is ``reward`` (``what="reward"``)."""

    def __init__(
        self, env: gym.Env, at_step: int, what: str = "observation", feature: int = 1,
        reward: float = float("inf"),
    ) -> None:  # fmt: skip
        super().__init__(env)
        self.at_step, self.what, self.feature, self.bad_reward = at_step, what, feature, reward
        self.steps = 0

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        if self.steps >= self.at_step:
            if self.what == "observation":
                obs = np.array(obs, dtype=np.float32)
                obs[self.feature] = np.nan
            else:
                reward = self.bad_reward
        return obs, reward, terminated, truncated, info


def _make(base: str, **kwargs: Any) -> Any:
    return lambda at_step=300, **more: GoesWrong(gym.make(base), at_step, **{**kwargs, **more})


def register() -> None:
    """Register the faulty envs (idempotent)."""
    specs = {
        NAN_OBS: (_make("CartPole-v1"), 500),
        INF_REWARD: (_make("CartPole-v1", what="reward"), 500),
        HUGE_REWARD: (_make("CartPole-v1", what="reward", reward=3e38), 500),
        NAN_OBS_PENDULUM: (_make("Pendulum-v1"), 200),
    }
    for env_id, (entry, limit) in specs.items():
        if env_id not in gym.registry:
            gym.register(env_id, entry_point=entry, max_episode_steps=limit)
