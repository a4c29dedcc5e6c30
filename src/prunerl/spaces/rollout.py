"""Play a policy on numbered episodes, in lock-step over one env per episode, replayably.

Episode ``i`` always starts from ``reset(seed=seed + i)`` with its spaces seeded alike and its
own stream of numpy's and torch's global generators (:mod:`prunerl.spaces.streams`), so two
runs of the same episode see the same random numbers: common random numbers, which make a
paired comparison (baseline vs permuted feature) free of episode noise. Batching the policy
over episodes keeps the many evaluations of space pruning cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from prunerl.rl.envs import make_env
from prunerl.spaces.policy import Policy
from prunerl.spaces.streams import GlobalStreams

Transform = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(batch of observations, their episode numbers) -> what the policy sees instead."""

POLICY_STREAM = -1  # the stream key of the policy (episodes are 0, 1, ...)


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
    """Episodes of ``env_id`` numbered from 0; ``episodes`` is how many a plain run plays."""

    def __init__(
        self,
        env_id: str,
        env_kwargs: dict[str, Any] | None = None,
        episodes: int = 10,
        seed: int = 10_000,
    ) -> None:
        if episodes <= 0:
            raise ValueError(f"episodes must be positive, got {episodes}")
        self.env_id, self.env_kwargs = env_id, env_kwargs
        self.episodes, self.seed = episodes, seed
        self.envs: list[gym.Env] = [make_env(env_id, seed + i, env_kwargs) for i in range(episodes)]

    def _envs(self, n: int) -> list[gym.Env]:
        while len(self.envs) < n:
            self.envs.append(make_env(self.env_id, self.seed + len(self.envs), self.env_kwargs))
        return self.envs[:n]

    def run(
        self,
        policy: Policy,
        transform: Transform | None = None,
        record: bool = False,
        episodes: range | None = None,
    ) -> Episodes:
        """Play ``episodes`` (default ``range(self.episodes)``) to their end; ``transform``
        changes what the policy sees. Returns are in the order of ``episodes``."""
        ids = np.asarray(episodes if episodes is not None else range(self.episodes), dtype=int)
        envs = self._envs(len(ids))
        streams = GlobalStreams(self.seed)
        returns = np.zeros(len(ids))
        seen: list[np.ndarray] = []
        taken: list[np.ndarray] = []
        with streams.session():
            obs = []
            for env, e in zip(envs, ids.tolist(), strict=True):
                env.action_space.seed(self.seed + e)
                env.observation_space.seed(self.seed + e)
                with streams.use(e):
                    obs.append(env.reset(seed=self.seed + e)[0])
            active = list(range(len(ids)))
            while active:
                batch = np.stack([obs[i] for i in active])
                seen_by_policy = transform(batch, ids[active]) if transform is not None else batch
                with streams.use(POLICY_STREAM):
                    actions = np.asarray(policy(seen_by_policy))
                if record:
                    seen.append(batch)
                    taken.append(actions)
                still = []
                for j, i in enumerate(active):
                    with streams.use(int(ids[i])):
                        obs[i], reward, terminated, truncated, _ = envs[i].step(actions[j])
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
