"""Proximal Policy Optimization (Schulman et al. 2017), pruned while it learns.

Vectorised environments with same-step autoreset (truncated episodes bootstrap from the value
of their final observation), GAE(λ), the clipped surrogate objective with optional value
clipping, an entropy bonus, advantage normalisation, gradient-norm clipping, linear learning-rate
and clip-range annealing, and optional running observation / reward normalisation.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from prunerl.rl.base import Agent, agents
from prunerl.rl.callbacks import Callback
from prunerl.rl.envs import finished_episodes, is_image_space, make_vec_env, obs_shape
from prunerl.rl.masking import (
    env_action_masks,
)
from prunerl.rl.networks import orthogonal_mlp
from prunerl.rl.normalize import ObsNormalizer, RewardScaler
from prunerl.rl.optim import adam, clip_grad_norm, optimizer_step, zero_grads
from prunerl.rl.plain_mlp import NumpyForward
from prunerl.rl.policies import GaussianActor
from prunerl.rl.ppo_acting import PPOActing
from prunerl.rl.ppo_config import PPOConfig
from prunerl.rl.ppo_loss import (
    clipped_surrogate_loss,
    gradients_by_hand,
    update_metrics,
    value_loss,
)
from prunerl.rl.rollout import RolloutBuffer
from prunerl.rl.schedules import rate_schedule


@agents.register("ppo")
class PPO(PPOActing, Agent):
    """PPO for Discrete (categorical policy) and Box (diagonal Gaussian policy) action spaces."""

    algo = "ppo"
    config_cls = PPOConfig
    prunable = ("actor", "critic")
    config: PPOConfig

    def build(self) -> None:
        env_id, seed = self.env_id, self.seed
        c = self.config
        self.envs = make_vec_env(env_id, c.num_envs, seed, self.env_kwargs)
        self._obs_space = self.envs.single_observation_space
        self._action_space = self.envs.single_action_space
        if is_image_space(self._obs_space):
            raise ValueError(f"PPO here takes vector observations, {env_id} gives images; use dqn")
        shape = self._obs_shape = obs_shape(self._obs_space)
        obs_dim = math.prod(shape)
        space = self._action_space
        self.discrete = isinstance(space, gym.spaces.Discrete)
        if self.discrete:
            assert isinstance(space, gym.spaces.Discrete)
            actor: nn.Module = orthogonal_mlp(obs_dim, int(space.n), c.net_arch, c.activation, 0.01)
            action_shape: tuple[int, ...] = ()
        elif isinstance(space, gym.spaces.Box):
            action_shape = tuple(space.shape)
            dim = math.prod(action_shape)
            mean = orthogonal_mlp(obs_dim, dim, c.net_arch, c.activation, 0.01)
            actor = GaussianActor(mean, dim, c.log_std_init)
        else:
            raise ValueError(f"PPO needs a Discrete or Box action space, {env_id} has {space}")
        critic = orthogonal_mlp(obs_dim, 1, c.net_arch, c.activation, 1.0)
        self.networks = {"actor": actor, "critic": critic}
        params = [*actor.parameters(), *critic.parameters()]
        self.optimizers = {"actor_critic": adam(params, c.learning_rate, eps=1e-5)}
        self.buffer = RolloutBuffer(
            c.n_steps,
            c.num_envs,
            (obs_dim,),
            action_shape,
            torch.int64 if self.discrete else torch.float32,
        )
        self.obs_normalizer = ObsNormalizer(shape) if c.normalize_obs else None
        self.reward_scaler = RewardScaler(c.num_envs, c.gamma) if c.normalize_reward else None
        self._obs: np.ndarray | None = None  # last (normalised) observations of the envs
        self._masks: np.ndarray | None = None  # their valid actions (None: the env gives none)
        self._acting = NumpyForward()  # the actor in numpy, for rollouts

    # ------------------------------------------------------------------ spaces and acting
    @property
    def observation_space(self) -> gym.Space:
        return self._obs_space

    @property
    def action_space(self) -> gym.Space:
        return self._action_space

    def policy_network(self) -> nn.Module:
        """Logits (Discrete) or the Gaussian mean (Box) of (normalised) observations."""
        return self.networks["actor"]

    # ------------------------------------------------------------------ training
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> PPO:
        c = self.config
        cb = callback or Callback()
        t0, lr_end = self.schedule_origin, 0.0 if c.anneal_lr else c.learning_rate
        lr = rate_schedule(c.learning_rate, lr_end, total_timesteps, t0)
        clip = rate_schedule(
            c.clip_range, 0.0 if c.anneal_clip else c.clip_range, total_timesteps, t0
        )
        self.prepare_learning()
        if self._obs is None:
            obs, infos = self.envs.reset(seed=self.seed if self.num_timesteps == 0 else None)
            self._obs = self.normalize_obs(obs, update=True)
            self._masks = env_action_masks(infos, self._action_space, c.num_envs)
        cb.on_training_start(self)
        while self.num_timesteps < total_timesteps:
            # collect a rollout of n_steps vector steps
            if not self.collect_rollout(cb):
                break
            # update: n_epochs of clipped-objective minibatch steps, on annealed lr and clip
            for group in self.optimizers["actor_critic"].param_groups:
                group["lr"] = lr(self.num_timesteps)
            metrics = self.train(clip(self.num_timesteps))
            metrics["learning_rate"] = lr(self.num_timesteps)
            cb.on_update(self, metrics)
        cb.on_training_end(self)
        return self

    @torch.no_grad()
    def collect_rollout(self, cb: Callback) -> bool:
        """Fill the rollout buffer and compute advantages; False if the callback stopped us."""
        c = self.config
        assert self._obs is not None
        for _ in range(self.buffer.pos, c.n_steps):  # a stopped rollout continues where it was
            # act (among the valid actions, when the env gives masks)
            obs, masks = torch.from_numpy(self._obs), self._masks
            actions = self._sample_actions(obs, masks)
            # step
            next_obs, rewards, terminated, truncated, infos = self.envs.step(
                self._env_actions(actions)
            )
            self.num_timesteps += c.num_envs
            self.check_transition(next_obs, rewards)
            ends = terminated | truncated
            if self.reward_scaler is not None:
                rewards = self.reward_scaler(rewards, ends)
            # store; a truncated episode bootstraps from the value of its final observation
            self.buffer.add(obs, actions, rewards, ends, masks)
            cut = np.flatnonzero(truncated & ~terminated)
            if cut.size:
                final = self.normalize_obs(np.stack(infos["final_obs"][cut]))
                self.buffer.set_bootstrap(cut, self.value(torch.from_numpy(final)))
            for episode_return, length in finished_episodes(infos):
                cb.on_episode(self, episode_return, length)
            self._obs = self.normalize_obs(next_obs, update=True)
            self._masks = env_action_masks(infos, self._action_space, c.num_envs)
            if not cb.on_step(self):
                return False
        # log-probabilities and values of the rollout policy, in one batch; then GAE
        obs, actions = self.buffer.obs.flatten(0, 1), self.buffer.actions.flatten(0, 1)
        log_probs = self.distribution(obs, self.buffer.flat_masks()).log_prob(actions)
        last_values = self.value(torch.from_numpy(self._obs))
        self.buffer.finish(log_probs, self.value(obs), last_values, c.gamma, c.gae_lambda)
        return True

    def train(self, clip: float) -> dict[str, float]:
        """``n_epochs`` passes of minibatch updates over the rollout; last minibatch's metrics."""
        c = self.config
        opt = self.optimizers["actor_critic"]
        params = [p for group in opt.param_groups for p in group["params"]]
        plain = self._plain_networks()  # None: the modules and autograd as usual
        for _ in range(c.n_epochs):
            for mb in self.buffer.minibatches(c.batch_size):
                advantages = mb["advantages"]
                if c.normalize_advantage and advantages.numel() > 1:
                    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
                # gradients of the clipped objective, value loss and entropy bonus
                zero_grads(opt)
                if plain is not None and all(p.accepts(mb["obs"]) for p in plain):
                    log_probs, values, entropy = gradients_by_hand(
                        *plain, mb, advantages, clip, c.clip_range_vf, c.vf_coef, c.ent_coef
                    )
                else:
                    log_probs, values, entropy = self._gradients(mb, advantages, clip)
                # update
                if self.pruner is not None:
                    self.pruner.observe_gradients()
                    self.mask_gradients()  # before clipping: pruned weights are not in the norm
                if c.max_grad_norm is not None:
                    clip_grad_norm(params, c.max_grad_norm)
                optimizer_step(opt)
                self.num_updates += 1
                self.pruning_step()
        metrics = update_metrics(log_probs, values, entropy, mb, advantages, clip, c.clip_range_vf)
        self.check_update(metrics)
        return {**metrics, "clip_range": clip}

    def _gradients(
        self, mb: dict[str, torch.Tensor], advantages: torch.Tensor, clip: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``loss.backward()``; returns the log-probabilities, values and entropies (detached)."""
        c = self.config
        dist = self.distribution(mb["obs"], mb.get("masks"))
        log_probs = dist.log_prob(mb["actions"])
        policy_loss = clipped_surrogate_loss(log_probs, mb["log_probs"], advantages, clip)
        values = self.value(mb["obs"])
        loss = policy_loss + c.vf_coef * value_loss(
            values, mb["values"], mb["returns"], c.clip_range_vf
        )
        entropy = dist.entropy()
        if c.ent_coef:  # entropy bonus: keeps the policy exploring
            loss = loss - c.ent_coef * entropy.mean()
        loss.backward()
        return log_probs.detach(), values.detach(), entropy.detach()

    def drop_episode(self) -> None:
        """The envs reset at the next :meth:`learn`; the rollout in progress is dropped."""
        self._obs = self._masks = None
        self.buffer.pos = 0
        if self.reward_scaler is not None:
            self.reward_scaler.returns[:] = 0.0

    # ------------------------------------------------------------------ persistence
    def extra_state(self) -> dict[str, Any]:
        """A rollout in progress and running normalisation statistics (when on)."""
        state: dict[str, Any] = {"rollout": self.buffer.partial_state()}
        if self.obs_normalizer is not None:
            state["obs_rms"] = self.obs_normalizer.rms.state_dict()
        if self.reward_scaler is not None:
            state["reward_rms"] = self.reward_scaler.rms.state_dict()
        return state

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "rollout" in state:
            self.buffer.load_partial_state(state["rollout"])
        if self.obs_normalizer is not None and "obs_rms" in state:
            self.obs_normalizer.rms.load_state_dict(state["obs_rms"])
        if self.reward_scaler is not None and "reward_rms" in state:
            self.reward_scaler.rms.load_state_dict(state["reward_rms"])
