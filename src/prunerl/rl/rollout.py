"""On-policy rollout storage and generalised advantage estimation (PPO)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import torch


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    ends: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns by GAE(λ) (Schulman et al. 2016) over ``(T, N)`` tensors.

    ``next_values[t]`` is the value of the state reached by step ``t``: ``V(s_{t+1})`` inside an
    episode, the value of the final observation on truncation, 0 on termination. ``ends[t]`` is
    1.0 where an episode ended at step ``t``, so advantages do not flow back across episodes.
    """
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + gamma * next_values[t] - values[t]
        running = delta + gamma * lam * (1.0 - ends[t]) * running
        advantages[t] = running
    return advantages, advantages + values


class RolloutBuffer:
    """``num_steps`` steps of ``num_envs`` environments, as ``(T, N, ...)`` tensors.

    The loop stores observations, actions, rewards and episode ends step by step; the rollout
    policy's log-probabilities and values are then given for the whole rollout at once
    (:meth:`finish`): the weights do not change while collecting, and one batched forward pass
    costs less than one per step.
    """

    def __init__(
        self,
        num_steps: int,
        num_envs: int,
        obs_shape: tuple[int, ...],
        action_shape: tuple[int, ...],
        action_dtype: torch.dtype,
    ) -> None:
        t, n = num_steps, num_envs
        self.shape = (t, n)
        self.obs = torch.zeros((t, n, *obs_shape))
        self.actions = torch.zeros((t, n, *action_shape), dtype=action_dtype)
        self.rewards = torch.zeros((t, n))
        self.ends = torch.zeros((t, n))  # 1.0: an episode ended at this step
        self.bootstrap = torch.zeros((t, n))  # value of the final observation where truncated
        self.log_probs = torch.zeros((t, n))
        self.values = torch.zeros((t, n))
        self.advantages = torch.zeros((t, n))
        self.returns = torch.zeros((t, n))
        self.masks: torch.Tensor | None = None  # (T, N, n_actions) bool, once an env gives masks
        self.pos = 0

    def add(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        rewards: np.ndarray,
        ends: np.ndarray,
        masks: np.ndarray | None = None,
    ) -> None:
        """Store one vector step; :meth:`set_bootstrap` may add truncation values after it.

        ``masks`` are the valid actions at ``obs`` (``(N, n_actions)``); the mask storage is
        allocated on the first step that has them, so maskless envs cost nothing.
        """
        i = self.pos
        if masks is not None:
            if self.masks is None:
                self.masks = torch.ones((*self.shape, masks.shape[-1]), dtype=torch.bool)
            self.masks[i] = torch.from_numpy(masks)
        self.obs[i] = obs
        self.actions[i] = actions
        self.rewards[i] = torch.as_tensor(rewards, dtype=torch.float32)
        self.ends[i] = torch.as_tensor(ends, dtype=torch.float32)
        self.bootstrap[i] = 0.0
        self.pos += 1

    def set_bootstrap(self, env_index: np.ndarray, values: torch.Tensor) -> None:
        """Values of the final observations of envs truncated at the last stored step."""
        self.bootstrap[self.pos - 1, torch.from_numpy(env_index)] = values

    def finish(
        self,
        log_probs: torch.Tensor,
        values: torch.Tensor,
        last_values: torch.Tensor,
        gamma: float,
        lam: float,
    ) -> None:
        """Store the rollout policy's outputs (``T * N`` each) and compute GAE(λ).

        ``last_values`` are the values of the observations that follow the last step.
        """
        self.log_probs = log_probs.reshape(self.shape)
        self.values = values.reshape(self.shape)
        next_values = torch.cat([self.values[1:], last_values.unsqueeze(0)])
        next_values = torch.where(self.ends.bool(), self.bootstrap, next_values)
        self.advantages, self.returns = gae(
            self.rewards, self.values, next_values, self.ends, gamma, lam
        )
        self.pos = 0

    PARTIAL: ClassVar[tuple[str, ...]] = ("obs", "actions", "rewards", "ends", "bootstrap", "masks")

    def partial_state(self) -> dict[str, Any]:
        """The steps of a rollout in progress (a checkpoint mid-rollout resumes it exactly)."""
        state: dict[str, Any] = {"pos": self.pos}
        for key in self.PARTIAL:
            value = getattr(self, key)
            if self.pos and value is not None:
                state[key] = value[: self.pos].clone()
        return state

    def load_partial_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`partial_state` into a buffer of the same shapes."""
        pos = int(state.get("pos", 0))
        if "masks" in state and self.masks is None:
            self.masks = torch.ones((*self.shape, state["masks"].shape[-1]), dtype=torch.bool)
        for key in self.PARTIAL:
            if key in state:
                target = getattr(self, key)
                if target[:pos].shape != state[key].shape:
                    raise ValueError(
                        f"saved rollout {key} has shape {tuple(state[key].shape)}, this agent's "
                        f"{tuple(target[:pos].shape)}: resume with the same config"
                    )
                target[:pos] = state[key]
        self.pos = pos

    def flat_masks(self) -> torch.Tensor | None:
        """The stored masks as ``(T * N, n_actions)``; None when the env gave none."""
        return None if self.masks is None else self.masks.flatten(0, 1)

    def minibatches(self, batch_size: int) -> Iterator[dict[str, torch.Tensor]]:
        """Shuffled minibatches over all ``T * N`` samples, flattened (one epoch)."""
        flat = {
            "obs": self.obs.flatten(0, 1),
            "actions": self.actions.flatten(0, 1),
            "log_probs": self.log_probs.flatten(),
            "values": self.values.flatten(),
            "advantages": self.advantages.flatten(),
            "returns": self.returns.flatten(),
        }
        if self.masks is not None:
            flat["masks"] = self.masks.flatten(0, 1)
        size = flat["log_probs"].shape[0]
        if batch_size >= size:  # one full batch: order does not change the gradient
            yield flat
            return
        order = torch.randperm(size)
        for start in range(0, size, batch_size):
            idx = order[start : start + batch_size]
            yield {k: v[idx] for k, v in flat.items()}
