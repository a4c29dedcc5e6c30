"""Run a policy for whole episodes and return their returns (deterministic by default)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from prunerl.rl.envs import make_env

Policy = Callable[[np.ndarray], np.ndarray]


def evaluate_policy(
    policy: Policy,
    env_id: str,
    episodes: int = 20,
    seed: int = 10_000,
    env_kwargs: dict[str, Any] | None = None,
) -> np.ndarray:
    """Returns of ``episodes`` episodes; episode i is reset with seed ``seed + i``.

    ``policy`` maps a batch of one observation to a batch of one action (``agent.predict``).
    A fixed evaluation seed range makes dense and pruned agents face the same episodes.
    """
    if episodes <= 0:
        raise ValueError(f"episodes must be positive, got {episodes}")
    env = make_env(env_id, seed, env_kwargs)
    returns = np.zeros(episodes, dtype=np.float64)
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            done, total = False, 0.0
            while not done:
                action = policy(obs[None])[0]
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                done = terminated or truncated
            returns[i] = total
    finally:
        env.close()
    return returns
