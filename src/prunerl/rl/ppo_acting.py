"""How PPO reads observations and acts: normalisation, the policy's distribution, values, actions.

A mixin of :class:`prunerl.rl.ppo.PPO` (which builds the attributes it reads in ``build``), kept
apart from the rollout and update loop. A plain categorical actor acts in numpy
(``PlainMLP.numpy_forward``) in rollouts and in ``predict``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from prunerl.rl.distributions import Categorical, DiagGaussian
from prunerl.rl.masking import Masks, batch_masks, masked_categorical, numpy_masked_argmax
from prunerl.rl.normalize import ObsNormalizer
from prunerl.rl.plain_mlp import NumpyForward, PlainMLP
from prunerl.rl.policies import GaussianActor


class PPOActing:
    """Observation handling, the policy's distribution and values, and action choice."""

    networks: dict[str, nn.Module]
    discrete: bool
    obs_normalizer: ObsNormalizer | None
    _acting: NumpyForward
    _obs_shape: tuple[int, ...]
    _action_space: gym.Space

    def _plain_networks(self) -> tuple[PlainMLP, PlainMLP] | None:
        """The actor and critic as plain MLPs when the gradients can be taken by hand."""
        if not self.discrete:
            return None
        actor, critic = PlainMLP.of(self.networks["actor"]), PlainMLP.of(self.networks["critic"])
        return None if actor is None or critic is None else (actor, critic)

    def normalize_obs(self, obs: np.ndarray, update: bool = False) -> np.ndarray:
        """Flattened float32 observations, whitened when ``normalize_obs`` is on."""
        obs = np.asarray(obs, dtype=np.float32)
        if self.obs_normalizer is not None:
            obs = self.obs_normalizer(obs, update=update)
        return obs.reshape(obs.shape[0], -1)

    def network_input(self, obs: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(self.normalize_obs(obs))

    def distill_kinds(self) -> dict[str, str]:
        return {"actor": "logits" if self.discrete else "regression", "critic": "regression"}

    def distribution(self, obs: torch.Tensor, masks: Masks = None) -> Categorical | DiagGaussian:
        """The policy's action distribution for normalised observations (over valid actions)."""
        actor = self.networks["actor"]
        if isinstance(actor, GaussianActor):
            return actor.distribution(obs)
        return masked_categorical(self._forward("actor", obs), masks)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self._forward("critic", obs).squeeze(-1)

    def _sample_actions(self, obs: torch.Tensor, masks: Masks) -> torch.Tensor:
        """The rollout policy's actions; a plain categorical actor computes its logits in numpy
        (``PlainMLP.numpy_forward``: acting only, the update's log-probabilities are computed
        after the rollout)."""
        if self.discrete:
            logits = self._acting(self.networks["actor"], obs.numpy())
            if logits is not None:
                return masked_categorical(torch.from_numpy(logits), masks).sample()
        return self.distribution(obs, masks).sample()

    def _forward(self, name: str, obs: torch.Tensor) -> torch.Tensor:
        """``networks[name](obs)``; without autograd, when the update takes its gradients by
        hand, the kernels of that update's forward (``PlainMLP.predict``), so the rollout's
        log-probabilities and values are the ones the first update sees (ratio exactly 1)."""
        if not torch.is_grad_enabled():
            plain = self._plain_networks()
            if plain is not None and all(p.accepts(obs) for p in plain):
                return plain[0 if name == "actor" else 1].predict(obs)
        return self.networks[name](obs)

    def _env_actions(self, actions: torch.Tensor) -> np.ndarray:
        """Actions as the envs take them: Gaussian samples are clipped to the Box bounds."""
        out = actions.numpy()
        if isinstance(self._action_space, gym.spaces.Box):
            out = np.clip(out, self._action_space.low, self._action_space.high)
        return out

    @torch.no_grad()
    def predict(
        self, obs: np.ndarray, deterministic: bool = True, action_masks: np.ndarray | None = None
    ) -> np.ndarray:
        """Actions for observations; ``action_masks`` (``(n,)`` or ``(batch, n)``) rule some out."""
        obs = np.asarray(obs)
        single = obs.ndim == len(self._obs_shape)
        x = self.normalize_obs(obs[None] if single else obs)
        masks = batch_masks(action_masks, len(x), self._action_space)
        logits = (
            self._acting(self.networks["actor"], x) if deterministic and self.discrete else None
        )
        if logits is not None:  # a plain categorical actor: its greedy action in numpy
            actions = numpy_masked_argmax(logits, masks)
        else:
            dist = self.distribution(torch.from_numpy(x), masks)
            actions = self._env_actions(dist.mode() if deterministic else dist.sample())
        return actions[0] if single else actions
