"""Run a policy for whole episodes and return their returns (deterministic by default)."""

from __future__ import annotations

import inspect
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
    A fixed evaluation seed range makes dense and pruned agents face the same episodes. When the
    env puts ``info["action_mask"]`` in its infos and ``policy`` takes an ``action_masks``
    keyword, it gets the current mask (as ``(1, n_actions)``) so it picks valid actions only.
    """
    if episodes <= 0:
        raise ValueError(f"episodes must be positive, got {episodes}")
    env = make_env(env_id, seed, env_kwargs)
    takes_masks = _takes_action_masks(policy)
    returns = np.zeros(episodes, dtype=np.float64)
    try:
        for i in range(episodes):
            obs, info = env.reset(seed=seed + i)
            done, total = False, 0.0
            while not done:
                mask = info.get("action_mask") if takes_masks else None
                if mask is None:
                    action = policy(obs[None])[0]
                else:
                    action = policy(obs[None], action_masks=np.asarray(mask)[None])[0]  # type: ignore[call-arg]
                obs, reward, terminated, truncated, info = env.step(action)
                total += float(reward)
                done = terminated or truncated
            returns[i] = total
    finally:
        env.close()
    return returns


def _takes_action_masks(policy: Policy) -> bool:
    """Whether ``policy`` accepts an ``action_masks`` keyword (masking-aware ``predict``)."""
    try:
        params = inspect.signature(policy).parameters
    except (TypeError, ValueError):  # builtins and some C callables have no signature
        return False
    return "action_masks" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )
