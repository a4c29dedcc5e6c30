"""Invalid-action masking: read and validate masks, and the masked math agents use.

An env says which actions are valid with ``info["action_mask"]`` (shape ``(n_actions,)``, or
``(num_envs, n_actions)`` from a vector env); a user callable becomes such an env with
:class:`ActionMasker`. Agents then act with :func:`masked_argmax` (DQN acting and targets:
:func:`masked_max`) or :func:`masked_log_prob_entropy` (PPO: log-probs and entropy over valid
actions only), as SB3-contrib's MaskablePPO does (Huang & Ontañón 2022).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch

MaskFn = Callable[[gym.Env], np.ndarray]
"""A user callable ``fn(env) -> mask`` (the SB3-contrib ``ActionMasker`` convention)."""


def check_action_mask(mask: Any, n_actions: int, source: str = 'info["action_mask"]') -> np.ndarray:
    """``mask`` as a bool array of shape ``(n_actions,)`` or ``(batch, n_actions)``, or an error.

    Raises when the shape does not fit the action space or when some state has no valid action.
    """
    arr = np.asarray(mask)
    if arr.ndim not in (1, 2) or arr.shape[-1] != n_actions:
        raise ValueError(
            f"{source} has shape {arr.shape} but the action space has {n_actions} actions; "
            f"return a mask of shape ({n_actions},) with 1/True for each valid action "
            f"(or ({n_actions},) per env of a vector env)"
        )
    if arr.dtype != np.bool_:
        if not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{source} must hold only 0/1 or True/False, got values {arr}")
        arr = arr.astype(bool)
    if not arr.any(axis=-1).all():
        raise ValueError(
            f"{source} marks no action valid in some state; every state needs at least one "
            "valid action (check the env's mask, or stop the episode there)"
        )
    return arr


def action_mask_from_info(
    info: dict[str, Any], n_actions: int, num_envs: int | None = None
) -> np.ndarray | None:
    """The valid-action mask in ``info`` (None when the env gives none).

    ``num_envs`` set: ``info`` comes from a vector env and the result has shape
    ``(num_envs, n_actions)``; envs that gave no mask this step get all actions valid.
    """
    if "action_mask" not in info:
        return None
    raw = info["action_mask"]
    if num_envs is None:
        return check_action_mask(raw, n_actions)
    present = np.asarray(info.get("_action_mask", np.ones(num_envs, dtype=bool)), dtype=bool)
    out = np.ones((num_envs, n_actions), dtype=bool)
    arr = np.asarray(raw)
    if arr.ndim != 2 or arr.shape[0] != num_envs:
        raise ValueError(
            f'info["action_mask"] from a vector env of {num_envs} envs has shape {arr.shape}; '
            f"each env must return a mask of shape ({n_actions},)"
        )
    if present.any():
        out[present] = check_action_mask(arr[present], n_actions)
    return out


class ActionMasker(gym.Wrapper[Any, Any, Any, Any]):
    """Put ``mask_fn(env)`` into ``info["action_mask"]`` after every reset and step."""

    def __init__(self, env: gym.Env, mask_fn: MaskFn) -> None:
        super().__init__(env)
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise ValueError(
                f"action masks need a Discrete action space, got {env.action_space}; "
                "masking does not apply to continuous actions"
            )
        if not callable(mask_fn):
            raise ValueError(f"mask_fn must be a callable fn(env) -> mask, got {mask_fn!r}")
        self.mask_fn = mask_fn
        self.n_actions = int(env.action_space.n)

    def _add_mask(self, info: dict[str, Any]) -> dict[str, Any]:
        mask = check_action_mask(self.mask_fn(self.env), self.n_actions, "mask_fn(env)")
        if mask.ndim != 1:
            raise ValueError(
                f"mask_fn(env) must return shape ({self.n_actions},), got {mask.shape}"
            )
        return {**info, "action_mask": mask}

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        return obs, self._add_mask(info)

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated, self._add_mask(info)


def _as_bool_mask(mask: torch.Tensor | np.ndarray, like: torch.Tensor) -> torch.Tensor:
    m = torch.as_tensor(mask, device=like.device).to(torch.bool)
    if m.shape[-1] != like.shape[-1]:
        raise ValueError(
            f"action mask has {m.shape[-1]} actions but the network outputs {like.shape[-1]}; "
            "the mask must have one entry per action"
        )
    return m.expand_as(like)


def mask_invalid(values: torch.Tensor, mask: torch.Tensor | np.ndarray | None) -> torch.Tensor:
    """``values`` with invalid actions set to the dtype's lowest finite value (never picked)."""
    if mask is None:
        return values
    m = _as_bool_mask(mask, values)
    return values.masked_fill(~m, torch.finfo(values.dtype).min)


def masked_argmax(values: torch.Tensor, mask: torch.Tensor | np.ndarray | None) -> torch.Tensor:
    """Greedy action among the valid ones (DQN acting; Double-DQN's next-action choice)."""
    return mask_invalid(values, mask).argmax(dim=-1)


def masked_max(values: torch.Tensor, mask: torch.Tensor | np.ndarray | None) -> torch.Tensor:
    """Largest value among the valid actions (DQN's bootstrap target ``max_a' Q(s', a')``)."""
    return mask_invalid(values, mask).max(dim=-1).values


def masked_log_softmax(
    logits: torch.Tensor, mask: torch.Tensor | np.ndarray | None
) -> torch.Tensor:
    """Log-probabilities renormalised over the valid actions; invalid ones get probability 0.

    Feed the result to any categorical built from logits (``Categorical(masked logits)``): its
    entropy then sums over valid actions only, since invalid terms are ``0 * log 0 = 0``.
    """
    return torch.log_softmax(mask_invalid(logits, mask), dim=-1)


def masked_log_prob_entropy(
    logits: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | np.ndarray | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probabilities of ``actions`` and entropies, both over the valid actions only (PPO)."""
    log_probs = masked_log_softmax(logits, mask)
    taken = log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
    entropy = -(log_probs.exp() * log_probs).sum(-1)
    return taken, entropy


def random_valid_actions(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random valid action per row of a ``(batch, n_actions)`` mask (exploration)."""
    m = np.asarray(mask, dtype=bool)
    scores = rng.random(m.shape)
    scores[~m] = -1.0
    return scores.argmax(axis=-1)
