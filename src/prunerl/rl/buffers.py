"""A preallocated numpy replay buffer (off-policy agents: DQN, SAC)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Batch:
    obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor  # 1.0 where the episode ended in a terminal state (no bootstrap)
    next_masks: torch.Tensor | None = None  # valid actions at next_obs, when the env gives masks
    discounts: torch.Tensor | None = None  # bootstrap discount per transition (n-step returns)


class ReplayBuffer:
    """Circular buffer of transitions; stores ``terminated`` only, so truncation bootstraps."""

    def __init__(
        self,
        capacity: int,
        obs_shape: tuple[int, ...],
        action_shape: tuple[int, ...] = (),
        obs_dtype: type = np.float32,
        action_dtype: type = np.int64,
        seed: int = 0,
    ) -> None:
        if capacity <= 0:
            raise ValueError(f"buffer capacity must be positive, got {capacity}")
        self.capacity = capacity
        self.obs: np.ndarray = np.zeros((capacity, *obs_shape), dtype=obs_dtype)
        self.next_obs: np.ndarray = np.zeros((capacity, *obs_shape), dtype=obs_dtype)
        self.actions: np.ndarray = np.zeros((capacity, *action_shape), dtype=action_dtype)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.next_masks: np.ndarray | None = None  # allocated on the first transition with a mask
        self.discounts: np.ndarray | None = None  # allocated on the first transition with one
        self.pos = 0
        self.full = False
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.capacity if self.full else self.pos

    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
        next_mask: np.ndarray | None = None,
        discount: float | None = None,
    ) -> None:
        """Store one transition; ``next_mask`` marks the valid actions at ``next_obs``;
        ``discount`` is its bootstrap discount when it varies (``gamma**k`` of a k-step return)."""
        i = self.pos
        if discount is not None:
            if self.discounts is None:
                self.discounts = np.zeros(self.capacity, dtype=np.float32)
            self.discounts[i] = discount
        if next_mask is not None:
            if self.next_masks is None:
                self.next_masks = np.ones((self.capacity, next_mask.shape[-1]), dtype=bool)
            self.next_masks[i] = next_mask
        self.obs[i] = obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_obs[i] = next_obs
        self.terminated[i] = float(terminated)
        self.pos = (i + 1) % self.capacity
        self.full = self.full or self.pos == 0

    def filled_arrays(self) -> dict[str, np.ndarray]:
        """The filled rows of every stored field (optional fields only when in use): what a
        checkpoint saves to resume with the same replay data."""
        size = len(self)
        fields = ("obs", "next_obs", "actions", "rewards", "terminated", "next_masks", "discounts")
        return {k: a[:size] for k in fields if (a := getattr(self, k)) is not None}

    def load_arrays(self, arrays: Mapping[str, np.ndarray], pos: int, full: bool) -> None:
        """Restore :meth:`filled_arrays`; a shape that does not fit gets a clear error."""
        self.next_masks = self.discounts = None
        for key, saved in arrays.items():
            if key == "next_masks":
                self.next_masks = np.ones((self.capacity, *saved.shape[1:]), dtype=bool)
            elif key == "discounts":
                self.discounts = np.zeros(self.capacity, dtype=np.float32)
            target = getattr(self, key, None)
            if not isinstance(target, np.ndarray):
                raise ValueError(f"replay buffer has no field {key!r}: resume with the same config")
            if saved.shape[1:] != target.shape[1:] or len(saved) > len(target):
                raise ValueError(
                    f"saved replay buffer {key} has shape {saved.shape}, the agent's has "
                    f"{target.shape}: resume with the same config"
                )
            target[: len(saved)] = saved
        self.pos, self.full = pos, full

    def sample(self, batch_size: int) -> Batch:
        idx = self.rng.integers(0, len(self), size=batch_size)
        return Batch(
            obs=torch.as_tensor(self.obs[idx]),
            actions=torch.as_tensor(self.actions[idx]),
            rewards=torch.as_tensor(self.rewards[idx]),
            next_obs=torch.as_tensor(self.next_obs[idx]),
            terminated=torch.as_tensor(self.terminated[idx]),
            next_masks=None if self.next_masks is None else torch.as_tensor(self.next_masks[idx]),
            discounts=None if self.discounts is None else torch.as_tensor(self.discounts[idx]),
        )

    def sample_many(self, num_batches: int, batch_size: int) -> Batch:
        """``num_batches`` batches drawn at once, stacked on a leading axis (one gather per field).

        Lets an agent run a round of gradient steps without per-step sampling overhead.
        """
        idx = self.rng.integers(0, len(self), size=(num_batches, batch_size))
        return Batch(
            obs=torch.from_numpy(self.obs[idx]),
            actions=torch.from_numpy(self.actions[idx]),
            rewards=torch.from_numpy(self.rewards[idx]),
            next_obs=torch.from_numpy(self.next_obs[idx]),
            terminated=torch.from_numpy(self.terminated[idx]),
            next_masks=None if self.next_masks is None else torch.from_numpy(self.next_masks[idx]),
            discounts=None if self.discounts is None else torch.from_numpy(self.discounts[idx]),
        )

    def sample_obs(self, n: int) -> np.ndarray:
        """Up to ``n`` stored observations (for activation-based importance and agreement)."""
        idx = self.rng.choice(len(self), size=min(n, len(self)), replace=False)
        return self.obs[idx]
