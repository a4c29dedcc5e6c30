"""n-step returns for replay (Sutton 1988; one of Rainbow's parts, Hessel et al. 2018).

A reward n steps later reaches the value estimate after one backup instead of n, which speeds
up credit assignment when the bootstrap target changes slowly.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import torch

from prunerl.rl.buffers import ReplayBuffer


class NStepWriter:
    """Turns single steps into n-step transitions ``(s_t, a_t, sum_j gamma^j r_{t+j}, s_{t+k})``.

    A transition is written once it spans ``n`` steps; at an episode's end all pending ones are
    written with their shorter returns. Each carries its bootstrap discount ``gamma**k``.
    """

    def __init__(self, buffer: ReplayBuffer, n: int, gamma: float) -> None:
        if n < 1:
            raise ValueError(f"n_step must be >= 1, got {n}")
        self.buffer = buffer
        self.n = n
        self.gamma = gamma
        self.pending: deque[tuple[np.ndarray, int, float]] = deque()

    def add(
        self,
        obs: np.ndarray,
        action: int,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
        done: bool,
        next_mask: np.ndarray | None = None,
    ) -> None:
        """One env step; ``done`` (terminated or truncated) flushes the episode's transitions.
        ``next_mask`` (valid actions at ``next_obs``) goes with every transition written now,
        since they all bootstrap from ``next_obs``."""
        if self.n == 1:
            self.buffer.add(obs, np.asarray(action), reward, next_obs, terminated, next_mask)
            return
        self.pending.append((obs, action, reward))
        while self.pending and (done or len(self.pending) == self.n):
            k = len(self.pending)
            ret = sum(self.gamma**j * r for j, (_, _, r) in enumerate(self.pending))
            first_obs, first_action, _ = self.pending.popleft()
            self.buffer.add(
                first_obs,
                np.asarray(first_action),
                ret,
                next_obs,
                terminated,
                next_mask,
                self.gamma**k,
            )

    def clear(self) -> None:
        """Drop the steps not yet written (their episode is abandoned)."""
        self.pending.clear()

    def state_dict(self) -> dict[str, Any]:
        """The steps not yet written (tensors and plain data, so checkpoints load safely)."""
        if not self.pending:
            return {"obs": None, "actions": [], "rewards": []}
        obs = torch.from_numpy(np.stack([o for o, _, _ in self.pending]))
        return {
            "obs": obs,
            "actions": [int(a) for _, a, _ in self.pending],
            "rewards": [float(r) for _, _, r in self.pending],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`: a resumed run writes the same transitions."""
        self.pending.clear()
        if state.get("obs") is None:
            return
        obs = state["obs"].numpy()
        for o, a, r in zip(obs, state["actions"], state["rewards"], strict=True):
            self.pending.append((o.copy(), int(a), float(r)))
