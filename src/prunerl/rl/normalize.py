"""Running observation and reward normalisation (the ``VecNormalize`` idea, kept in the agent).

Statistics live in the agent, not in an env wrapper, so they are checkpointed with it
(``state_dict`` holds tensors and plain numbers) and ``predict`` applies the same transform.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class RunningMeanStd:
    """Mean and variance of a stream of batches (parallel update of Chan et al. 1979)."""

    def __init__(self, shape: tuple[int, ...] = (), epsilon: float = 1e-4) -> None:
        self.mean = np.zeros(shape, dtype=np.float64)
        self.var = np.ones(shape, dtype=np.float64)
        self.count = epsilon

    def update(self, batch: np.ndarray) -> None:
        """Fold in a batch whose first axis indexes samples."""
        batch_mean, batch_var, n = batch.mean(axis=0), batch.var(axis=0), batch.shape[0]
        delta = batch_mean - self.mean
        total = self.count + n
        self.mean = self.mean + delta * n / total
        m2 = self.var * self.count + batch_var * n + delta**2 * self.count * n / total
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict[str, Any]:
        return {
            "mean": torch.tensor(np.asarray(self.mean)),
            "var": torch.tensor(np.asarray(self.var)),
            "count": float(self.count),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean = state["mean"].numpy().astype(np.float64)
        self.var = state["var"].numpy().astype(np.float64)
        self.count = float(state["count"])


class ObsNormalizer:
    """Whitens observations with running statistics and clips them to ``[-clip, clip]``."""

    def __init__(self, shape: tuple[int, ...], clip: float = 10.0, epsilon: float = 1e-8) -> None:
        self.rms = RunningMeanStd(shape)
        self.clip = clip
        self.epsilon = epsilon

    def __call__(self, obs: np.ndarray, update: bool = False) -> np.ndarray:
        """Normalised ``obs`` (float32); ``update=True`` first folds ``obs`` into the statistics."""
        if update:
            self.rms.update(obs)
        out = (obs - self.rms.mean) / np.sqrt(self.rms.var + self.epsilon)
        return np.clip(out, -self.clip, self.clip).astype(np.float32)


class RewardScaler:
    """Divides rewards by the running std of the discounted return (Engstrom et al. 2020).

    Keeps one discounted return per environment, reset when its episode ends; the reward mean
    is not subtracted, so the sign of rewards (and the optimal policy) is unchanged.
    """

    def __init__(
        self, num_envs: int, gamma: float, clip: float = 10.0, epsilon: float = 1e-8
    ) -> None:
        self.rms = RunningMeanStd(())
        self.returns = np.zeros(num_envs, dtype=np.float64)
        self.gamma = gamma
        self.clip = clip
        self.epsilon = epsilon

    def __call__(self, rewards: np.ndarray, dones: np.ndarray) -> np.ndarray:
        """Scaled ``rewards`` (float32) after updating the statistics; ``dones`` end episodes."""
        self.returns = self.returns * self.gamma + rewards
        self.rms.update(self.returns)
        self.returns[dones] = 0.0
        scaled = rewards / np.sqrt(self.rms.var + self.epsilon)
        return np.clip(scaled, -self.clip, self.clip).astype(np.float32)
