"""Run a policy for a fixed set of episodes, in lock-step over one env per episode.

Batching the policy over episodes makes the many evaluations of space pruning (one per
candidate feature or action) cheap: one forward pass per time step instead of one per episode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from prunerl.rl.envs import make_env
from prunerl.spaces.policy import Policy

Transform = Callable[[np.ndarray], np.ndarray]
"""Batch of observations -> batch of observations (e.g. one feature shuffled)."""


@dataclass
class Episodes:
    """Returns of each episode, and (when recorded) the visited observations and actions."""

    returns: np.ndarray
    observations: np.ndarray | None = None
    actions: np.ndarray | None = None

    @property
    def mean(self) -> float:
        return float(self.returns.mean())


class EpisodeRunner:
    """``episodes`` envs of ``env_id``; episode i always starts from ``reset(seed=seed + i)``."""

    def __init__(
        self,
        env_id: str,
        env_kwargs: dict[str, Any] | None = None,
        episodes: int = 10,
        seed: int = 10_000,
    ) -> None:
        if episodes <= 0:
            raise ValueError(f"episodes must be positive, got {episodes}")
        self.env_id, self.seed = env_id, seed
        self.envs = [make_env(env_id, seed + i, env_kwargs) for i in range(episodes)]

    def run(
        self, policy: Policy, transform: Transform | None = None, record: bool = False
    ) -> Episodes:
        """Play every episode to its end; ``transform`` changes what the policy sees."""
        n = len(self.envs)
        obs = [env.reset(seed=self.seed + i)[0] for i, env in enumerate(self.envs)]
        returns = np.zeros(n)
        active = list(range(n))
        seen: list[np.ndarray] = []
        taken: list[np.ndarray] = []
        while active:
            batch = np.stack([obs[i] for i in active])
            actions = np.asarray(policy(transform(batch) if transform is not None else batch))
            if record:
                seen.append(batch)
                taken.append(actions)
            still = []
            for j, i in enumerate(active):
                obs[i], reward, terminated, truncated, _ = self.envs[i].step(actions[j])
                returns[i] += float(reward)
                if not (terminated or truncated):
                    still.append(i)
            active = still
        if not record:
            return Episodes(returns)
        return Episodes(returns, np.concatenate(seen), np.concatenate(taken))

    def close(self) -> None:
        for env in self.envs:
            env.close()
