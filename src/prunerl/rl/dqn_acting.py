"""How DQN reads observations and acts: network inputs, Q-values, greedy and epsilon actions.

A mixin of :class:`prunerl.rl.dqn.DQN` (which builds the attributes it reads in ``build``), kept
apart from the training loop. A plain MLP acts in numpy (``PlainMLP.numpy_forward``): a batch-1
torch forward costs about four times as much, more than the env step itself.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from prunerl.rl.masking import batch_masks, numpy_masked_argmax, random_actions
from prunerl.rl.normalize import ObsNormalizer
from prunerl.rl.plain_mlp import NumpyForward
from prunerl.spaces.action_mask import masked_argmax


class DQNActing:
    """Observation handling and action choice of a Q-network agent."""

    networks: dict[str, nn.Module]
    config: Any
    rng: np.random.Generator
    is_image: bool
    n_actions: int
    obs_normalizer: ObsNormalizer | None
    _acting: NumpyForward
    _obs_space: gym.Space
    _action_space: gym.Space
    _obs_mean: torch.Tensor
    _obs_std: torch.Tensor

    def _to_input(self, obs: torch.Tensor) -> torch.Tensor:
        """Network input of stored observations: images scaled to [0, 1]; vectors flattened,
        whitened with the running statistics when ``normalize_obs`` is on."""
        if self.is_image:
            return obs.float().mul_(1.0 / 255.0)
        x = obs.reshape(obs.shape[0], -1).float()
        if self.obs_normalizer is not None:
            clip = self.obs_normalizer.clip
            x = ((x - self._obs_mean) / self._obs_std).clamp_(-clip, clip)
        return x

    def _refresh_normalizer(self) -> None:
        """Cache the running statistics as tensors (once per round of updates)."""
        if self.obs_normalizer is not None:
            rms = self.obs_normalizer.rms
            std = np.sqrt(rms.var + self.obs_normalizer.epsilon)
            self._obs_mean = torch.as_tensor(rms.mean.reshape(-1), dtype=torch.float32)
            self._obs_std = torch.as_tensor(std.reshape(-1), dtype=torch.float32)

    def network_input(self, obs: np.ndarray) -> torch.Tensor:
        self._refresh_normalizer()
        return self._to_input(torch.as_tensor(obs))

    def distill_kinds(self) -> dict[str, str]:
        return {"q": "q"}

    @torch.no_grad()
    def q_values(self, obs: np.ndarray) -> torch.Tensor:
        """Q-values of the online network for a batch of raw observations."""
        return self.networks["q"](self.network_input(obs))

    def _numpy_q(self, obs: np.ndarray) -> np.ndarray | None:
        """Q-values of raw observations (one, or a batch) in numpy for a plain MLP
        (``PlainMLP.numpy_forward``: a batch-1 torch forward costs about four times as much,
        more than the env step itself); None for any other network. Whitening as in
        ``_to_input``, with the same float32 arithmetic."""
        if self.is_image:
            return None
        x = np.asarray(obs, dtype=np.float32)
        single = x.ndim == len(self._obs_space.shape or ())
        x = x.reshape(-1) if single else x.reshape(len(x), -1)
        if self.obs_normalizer is not None:
            rms, clip = self.obs_normalizer.rms, self.obs_normalizer.clip
            std = np.sqrt(rms.var + self.obs_normalizer.epsilon).reshape(-1).astype(np.float32)
            x = np.clip((x - rms.mean.reshape(-1).astype(np.float32)) / std, -clip, clip)
        return self._acting(self.networks["q"], x)

    def _greedy_action(self, obs: np.ndarray, mask: np.ndarray | None) -> int:
        """The online network's best valid action for one observation (the exploiting step)."""
        q = self._numpy_q(obs)
        if q is None:
            return int(masked_argmax(self.q_values(obs[None]), mask)[0])
        return int(numpy_masked_argmax(q, mask))

    def predict(
        self, obs: np.ndarray, deterministic: bool = True, action_masks: np.ndarray | None = None
    ) -> np.ndarray:
        """Greedy actions (epsilon-greedy at the final epsilon unless ``deterministic``);
        ``action_masks`` (``(n,)`` or ``(batch, n)``, True = valid) rule some actions out."""
        obs = np.asarray(obs)
        single = obs.ndim == len(self._obs_space.shape or ())
        batch = obs[None] if single else obs
        masks = batch_masks(action_masks, len(batch), self._action_space)
        q = self._numpy_q(batch)
        if q is None:
            actions = masked_argmax(self.q_values(batch), masks).numpy()
        else:
            actions = numpy_masked_argmax(q, masks)
        if not deterministic:
            explore = self.rng.random(len(actions)) < self.config.exploration_final_eps
            randoms = random_actions(masks, self.n_actions, len(actions), self.rng)
            actions = np.where(explore, randoms, actions)
        return actions[0] if single else actions
