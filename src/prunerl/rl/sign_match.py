"""``prunerl/SignMatch-v0``: a noisy task whose needed observation features are known exactly,
to test that state-space pruning keeps every needed feature and drops every distractor.

Each step shows ``n_real`` signals ``x_i ~ N(0, 1)``; bit ``i`` of the action guesses whether
``x_i > 0``, and the reward is the fraction of bits guessed right plus ``N(0, reward_noise)``.
Every signal is needed: guessing one bit blind costs ``episode_steps / (2 * n_real)`` return
on average. The reward noise makes returns differ from episode to episode (about
``reward_noise * sqrt(episode_steps)``), so only paired episodes can tell small drops apart.
Distractors (:class:`prunerl.rl.test_envs.AddDistractors`: noise, constants, noisy copies of
the signals) follow the signals in the observation.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from prunerl.rl.test_envs import AddDistractors

NOISE_SOURCES = ("env", "global")


class SignMatch(gym.Env[np.ndarray, np.int64]):
    """Guess the signs of ``n_real`` Gaussian signals; ``Discrete(2 ** n_real)`` actions.

    ``noise_source="env"`` draws signals and reward noise from ``self.np_random`` (reset-seeded,
    the Gymnasium way); ``"global"`` from numpy's global generator, as envs written with
    ``np.random.normal`` do, which only a runner that gives each episode its own global
    stream can replay.
    """

    metadata = {"render_modes": []}  # noqa: RUF012  (Gymnasium declares it per instance)

    def __init__(
        self,
        n_real: int = 3,
        episode_steps: int = 50,
        reward_noise: float = 1.0,
        noise_source: str = "env",
    ) -> None:
        if not 1 <= n_real <= 8 or episode_steps < 1 or reward_noise < 0:
            raise ValueError(
                f"need 1 <= n_real <= 8, episode_steps >= 1 and reward_noise >= 0, got "
                f"n_real={n_real}, episode_steps={episode_steps}, reward_noise={reward_noise}"
            )
        if noise_source not in NOISE_SOURCES:
            raise ValueError(f"noise_source must be one of {NOISE_SOURCES}, got {noise_source!r}")
        self.n_real, self.episode_steps = n_real, episode_steps
        self.reward_noise, self.noise_source = reward_noise, noise_source
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (n_real,), np.float32)
        self.action_space = gym.spaces.Discrete(2**n_real)
        self.bits = (np.arange(2**n_real)[:, None] >> np.arange(n_real)) & 1  # (actions, n_real)
        self.signals = np.zeros(n_real)
        self.t = 0

    def _normal(self, size: int) -> np.ndarray:
        if self.noise_source == "global":
            return np.random.normal(size=size)
        return self.np_random.normal(size=size)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.t = 0
        self.signals = self._normal(self.n_real)
        return self.signals.astype(np.float32), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        right = self.bits[int(action)] == (self.signals > 0)
        reward = float(right.mean()) + self.reward_noise * float(self._normal(1)[0])
        self.t += 1
        self.signals = self._normal(self.n_real)
        return self.signals.astype(np.float32), reward, False, self.t >= self.episode_steps, {}


def make_sign_match(
    n_real: int = 3,
    episode_steps: int = 50,
    reward_noise: float = 1.0,
    noise_source: str = "env",
    n_distractors: int = 9,
    **distractor_kwargs: Any,
) -> gym.Env:
    """:class:`SignMatch` followed by ``n_distractors`` distractor features."""
    env = SignMatch(n_real, episode_steps, reward_noise, noise_source)
    names = tuple(f"signal_{i}" for i in range(n_real))
    return AddDistractors(env, n_distractors, feature_names=names, **distractor_kwargs)
