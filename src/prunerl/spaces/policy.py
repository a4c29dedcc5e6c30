"""How space pruning reads an agent: its network input, its outputs, and greedy policies.

Agents differ in how raw observations become network input (DQN scales images, PPO whitens
observations); :func:`network_input` hides that, so importance measures work on any agent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch

Policy = Callable[[np.ndarray], np.ndarray]
"""Batch of observations -> batch of actions (``agent.predict``)."""


def network_input(agent: Any, obs: np.ndarray) -> torch.Tensor:
    """The float tensor the agent's ``policy_network()`` takes for raw observations ``obs``."""
    obs = np.asarray(obs)
    for name in ("policy_input", "normalize_obs"):
        fn = getattr(agent, name, None)
        if callable(fn):
            return torch.as_tensor(fn(obs), dtype=torch.float32)
    to_input = getattr(agent, "_to_input", None)
    if callable(to_input):
        return to_input(torch.as_tensor(obs)).float()
    x = torch.as_tensor(obs, dtype=torch.float32)
    space = agent.observation_space
    if isinstance(space, gym.spaces.Box) and space.dtype == np.uint8:
        x = x / 255.0
    return x


@torch.no_grad()
def policy_outputs(agent: Any, obs: np.ndarray) -> torch.Tensor:
    """Q-values, logits or action means of the agent's policy network for a batch."""
    return agent.policy_network()(network_input(agent, obs))


def restricted_greedy(agent: Any, keep: np.ndarray) -> Policy:
    """Greedy policy that only picks among ``keep`` (actions removed without retraining)."""
    kept = torch.as_tensor(np.asarray(keep), dtype=torch.long)

    def act(obs: np.ndarray) -> np.ndarray:
        out = policy_outputs(agent, obs)
        return kept[out.index_select(-1, kept).argmax(dim=-1)].numpy()

    return act


def discrete_actions(agent: Any) -> int:
    """Number of actions, or a clear error when the action space is not Discrete."""
    space = agent.action_space
    if not isinstance(space, gym.spaces.Discrete):
        raise ValueError(
            f"action-space pruning needs a Discrete action space, got {space}; continuous "
            "actions cannot be removed one by one (prune observations or network units instead)"
        )
    return int(space.n)


def env_names(agent: Any, attribute: str, n: int) -> list[str]:
    """``feature_names`` / ``action_names`` declared by the agent's env, if it has ``n`` of them."""
    env = getattr(agent, "env", None) or getattr(agent, "envs", None)
    for candidate in (env, *(getattr(env, "envs", None) or ())):
        if candidate is None:
            continue
        try:
            names = candidate.get_wrapper_attr(attribute)
        except AttributeError:
            continue
        if names is not None and len(names) == n:
            return [str(x) for x in names]
    return []
