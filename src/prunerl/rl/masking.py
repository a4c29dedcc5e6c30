"""Glue between env-provided action masks and the agents (the math is in ``spaces.action_mask``).

Agents read ``info["action_mask"]`` after every reset and step with :func:`env_action_masks`;
it is None when the env gives no mask (or the action space is not Discrete), and every masked
code path then falls back to the unmasked one at no extra cost.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from prunerl.rl.distributions import Categorical
from prunerl.spaces.action_mask import (
    action_mask_from_info,
    check_action_mask,
    mask_invalid,
    random_valid_actions,
)

Masks = torch.Tensor | np.ndarray | None
"""Valid-action masks ``(batch, n_actions)`` (True: valid), or None for all actions valid."""


def env_action_masks(
    infos: dict[str, Any], action_space: gym.Space, num_envs: int | None = None
) -> np.ndarray | None:
    """Valid-action masks ``(num_envs, n)`` (or ``(n,)`` without ``num_envs``); None if absent."""
    if "action_mask" not in infos or not isinstance(action_space, gym.spaces.Discrete):
        return None
    return action_mask_from_info(infos, int(action_space.n), num_envs)


def batch_masks(
    action_masks: np.ndarray | None, batch: int, action_space: gym.Space
) -> np.ndarray | None:
    """User-given masks for ``predict`` as a ``(1 or batch, n)`` bool array (one broadcasts)."""
    if action_masks is None:
        return None
    if not isinstance(action_space, gym.spaces.Discrete):
        raise ValueError(
            f"action_masks need a Discrete action space, got {action_space}; pass action_masks=None"
        )
    n = int(action_space.n)
    masks = np.asarray(action_masks)
    if masks.ndim == 1:
        masks = masks[None]
    if masks.shape[-1] != n or masks.shape[0] not in (1, batch):
        raise ValueError(
            f"action_masks has shape {np.shape(action_masks)} for {batch} observation(s) and {n} "
            f"actions; pass shape ({n},) or ({batch}, {n})"
        )
    return check_action_mask(masks, n, "action_masks")


def masked_categorical(logits: torch.Tensor, masks: Masks) -> Categorical:
    """A categorical over the valid actions only: invalid ones get probability 0.

    Log-probabilities and entropy equal ``spaces.action_mask.masked_log_prob_entropy``
    (MaskablePPO, Huang & Ontañón 2022); without masks it is the plain categorical.
    """
    return Categorical(mask_invalid(logits, masks))


def random_actions(
    masks: np.ndarray | None, n_actions: int, size: int, rng: np.random.Generator
) -> np.ndarray:
    """``size`` uniformly random actions, valid ones only when ``masks`` (``(size, n)``) is given.

    Without masks it draws ``rng.integers(n_actions)`` exactly as a maskless agent always did.
    """
    if masks is None:
        return rng.integers(n_actions, size=size)
    return random_valid_actions(np.broadcast_to(masks, (size, n_actions)), rng)


def numpy_masked_argmax(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """:func:`masked_argmax` for numpy values (acting in numpy): invalid actions never win."""
    if mask is not None:
        values = np.where(mask, values, np.finfo(values.dtype).min)
    return np.asarray(values.argmax(axis=-1))
