"""Soft Actor-Critic (Haarnoja et al. 2018), pruned while it learns.

A tanh-squashed Gaussian actor rescaled to the action bounds, twin critics with clipped double-Q
targets (Fujimoto et al. 2018) from Polyak-averaged target critics, and automatic tuning of the
entropy temperature towards a target entropy (Haarnoja et al. 2018b).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from prunerl.rl.base import Agent, agents
from prunerl.rl.buffers import ReplayBuffer
from prunerl.rl.callbacks import Callback
from prunerl.rl.envs import is_image_space, make_env, obs_shape
from prunerl.rl.networks import mlp
from prunerl.rl.optim import adam, optimizer_step, zero_grads
from prunerl.rl.policies import SquashedGaussianActor
from prunerl.rl.sac_config import SACConfig


class TwinQ(nn.Module):
    """Two independent Q-networks ``q1``, ``q2`` over the concatenation observation‖action."""

    def __init__(self, in_dim: int, hidden: Sequence[int], act: str) -> None:
        super().__init__()
        self.q1 = mlp(in_dim, 1, hidden, act)
        self.q2 = mlp(in_dim, 1, hidden, act)

    def forward(
        self, obs: torch.Tensor, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([obs, actions], dim=-1)
        return self.q1(x).squeeze(-1), self.q2(x).squeeze(-1)


@agents.register("sac")
class SAC(Agent):
    """SAC for continuous (Box) action spaces and vector observations."""

    algo = "sac"
    config_cls = SACConfig
    prunable = ("actor", "critic")
    followers = {"critic_target": "critic"}  # noqa: RUF012  (read-only class constant)
    config: SACConfig

    def build(self) -> None:
        env_id, seed = self.env_id, self.seed
        c = self.config
        self.env = make_env(env_id, seed, self.env_kwargs)
        self._obs_space, space = self.env.observation_space, self.env.action_space
        if not isinstance(space, gym.spaces.Box):
            raise ValueError(
                f"SAC needs a continuous (Box) action space, but {env_id} has {space}; "
                "use dqn or ppo for discrete actions"
            )
        if is_image_space(self._obs_space):
            raise ValueError(f"SAC here takes vector observations, {env_id} gives images")
        self._action_space = space
        self._obs_shape = obs_shape(self._obs_space)
        obs_dim, self.action_dim = math.prod(self._obs_shape), math.prod(space.shape)
        actor = SquashedGaussianActor(obs_dim, space.low, space.high, c.net_arch, c.activation)
        critic = TwinQ(obs_dim + self.action_dim, c.net_arch, c.activation)
        self.networks = {
            "actor": actor,
            "critic": critic,
            "critic_target": copy.deepcopy(critic).requires_grad_(False),
        }
        self.optimizers = {
            "actor": adam(actor.parameters(), c.learning_rate),
            "critic": adam(critic.parameters(), c.learning_rate),
        }
        self.log_alpha = torch.tensor(math.log(c.alpha or c.alpha_init), requires_grad=True)
        self.auto_alpha = c.alpha is None
        if self.auto_alpha:
            self.optimizers["alpha"] = adam([self.log_alpha], c.learning_rate)
        self.target_entropy = (
            float(-self.action_dim) if c.target_entropy is None else c.target_entropy
        )
        self.buffer = ReplayBuffer(
            c.buffer_size,
            (obs_dim,),
            action_shape=(self.action_dim,),
            action_dtype=np.float32,
            seed=seed,
        )
        self._last_obs: np.ndarray | None = None

    # ------------------------------------------------------------------ spaces and acting
    @property
    def observation_space(self) -> gym.Space:
        return self._obs_space

    @property
    def action_space(self) -> gym.Space:
        return self._action_space

    def policy_network(self) -> nn.Module:
        """The actor: observations to the deterministic action ``tanh(mean)`` in the bounds."""
        return self.networks["actor"]

    def distill_kinds(self) -> dict[str, str]:
        return {"actor": "regression"}  # the critic takes actions too: RL fine-tuning only

    @property
    def actor(self) -> SquashedGaussianActor:
        return cast(SquashedGaussianActor, self.networks["actor"])

    @property
    def alpha(self) -> float:
        """The current entropy temperature."""
        if self.config.alpha is not None:
            return self.config.alpha
        return float(self.log_alpha.detach().exp())

    @torch.no_grad()
    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float32)
        single = obs.ndim == len(self._obs_shape)
        batch = torch.from_numpy(obs[None] if single else obs).flatten(1)
        actions = self.actor(batch) if deterministic else self.actor.sample(batch)[0]
        out = actions.reshape(-1, *self._action_space.shape).numpy()
        return out[0] if single else out

    # ------------------------------------------------------------------ training
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> SAC:
        c = self.config
        cb = callback or Callback()
        space = self._action_space
        assert isinstance(space, gym.spaces.Box)
        self.prepare_learning()
        obs = self._last_obs
        if obs is None:
            obs, _ = self.env.reset(seed=self.seed if self.num_timesteps == 0 else None)
        cb.on_training_start(self)
        while self.num_timesteps < total_timesteps:
            # act: uniform random actions until learning_starts, then samples of the policy
            if self.num_timesteps < c.learning_starts:
                action = self.rng.uniform(space.low, space.high).astype(np.float32)
            else:
                action = self.predict(obs, deterministic=False)
            # step
            next_obs, reward, terminated, truncated, info = self.env.step(action)
            self.num_timesteps += 1
            self.check_transition(next_obs, reward)
            # store: only `terminated` stops bootstrapping, so time-limit truncation bootstraps
            self.buffer.add(
                obs.reshape(-1),
                action.reshape(-1),
                float(reward),
                next_obs.reshape(-1),
                bool(terminated),
            )
            if terminated or truncated:
                cb.on_episode(self, float(info["episode"]["r"]), int(info["episode"]["l"]))
                next_obs, _ = self.env.reset()
                self.check_transition(next_obs, 0.0)
            obs = self._last_obs = next_obs  # current at every step, for mid-run checkpoints
            # update: a round of gradient steps every train_freq env steps
            t = self.num_timesteps
            if t > c.learning_starts and t % c.train_freq == 0 and c.gradient_steps > 0:
                cb.on_update(self, self.train(c.gradient_steps))
            if not cb.on_step(self):
                break
        cb.on_training_end(self)
        return self

    def train(self, gradient_steps: int) -> dict[str, float]:
        """``gradient_steps`` SAC updates on replayed batches; returns the last step's metrics."""
        c = self.config
        actor, critic = self.actor, self.networks["critic"]
        target = self.networks["critic_target"]
        actor_params = list(actor.parameters())
        last: dict[str, torch.Tensor] = {}
        for _ in range(gradient_steps):
            # sample
            batch = self.buffer.sample(c.batch_size)
            alpha = self.log_alpha.detach().exp() if self.auto_alpha else torch.tensor(c.alpha)
            # critic loss: soft TD target from the smaller of the two target critics
            with torch.no_grad():
                next_actions, next_log_probs = actor.sample(batch.next_obs)
                next_q = torch.min(*target(batch.next_obs, next_actions))
                soft_next = next_q - alpha * next_log_probs
                td_target = batch.rewards + c.gamma * (1.0 - batch.terminated) * soft_next
            q1, q2 = critic(batch.obs, batch.actions)
            critic_loss = 0.5 * (F.mse_loss(q1, td_target) + F.mse_loss(q2, td_target))
            # actor loss: maximise the smaller soft Q-value of reparameterised actions
            actions, log_probs = actor.sample(batch.obs)
            actor_loss = (alpha * log_probs - torch.min(*critic(batch.obs, actions))).mean()
            # update both; the actor loss sends gradients into the actor only
            for opt in self.optimizers.values():
                zero_grads(opt)
            critic_loss.backward()
            actor_loss.backward(inputs=actor_params)
            if self.pruner is not None:
                self.pruner.observe_gradients()
            optimizer_step(self.optimizers["critic"])
            optimizer_step(self.optimizers["actor"])
            self.num_updates += 1
            self.pruning_step()
            # entropy temperature: raise alpha when the entropy is below its target
            if self.auto_alpha:
                alpha_loss = -(self.log_alpha * (log_probs.detach() + self.target_entropy)).mean()
                alpha_loss.backward()
                optimizer_step(self.optimizers["alpha"])
            # sync target: Polyak averaging (pruned weights are 0 in both, so they stay 0)
            with torch.no_grad():
                torch._foreach_lerp_(list(target.parameters()), list(critic.parameters()), c.tau)
            last = {
                "critic_loss": critic_loss,
                "actor_loss": actor_loss,
                "q_mean": q1.mean(),
                "entropy": -log_probs.mean(),
                "alpha": alpha,
            }
        metrics = {k: float(v.detach()) for k, v in last.items()}
        self.check_update(metrics, {"log_alpha": self.log_alpha})
        return metrics

    def drop_episode(self) -> None:
        self._last_obs = None

    # ------------------------------------------------------------------ persistence
    def extra_state(self) -> dict[str, Any]:
        """The entropy temperature (its optimizer is checkpointed with the others)."""
        return {"log_alpha": self.log_alpha.detach().clone()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "log_alpha" in state:
            with torch.no_grad():
                self.log_alpha.copy_(state["log_alpha"])
