"""Deep Q-Network with experience replay (Mnih et al. 2015), pruned while it learns.

Options: double DQN (van Hasselt et al. 2016), dueling heads (Wang et al. 2016), hard or
Polyak target updates, Huber or MSE loss, linear epsilon and learning-rate schedules, and the
``train_freq`` / ``gradient_steps`` / ``learning_starts`` cadence of Stable-Baselines3.
Env-provided action masks (``info["action_mask"]``) are honoured everywhere: greedy and random
actions are valid ones, and targets bootstrap from the valid actions of the next state.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from prunerl.rl.base import Agent, agents
from prunerl.rl.buffers import Batch, ReplayBuffer
from prunerl.rl.callbacks import Callback
from prunerl.rl.dqn_acting import DQNActing
from prunerl.rl.dqn_config import DQNConfig, q_network
from prunerl.rl.dqn_loss import LOSS_FUNCTIONS, next_value, td_gradients
from prunerl.rl.envs import is_image_space, make_env, obs_shape
from prunerl.rl.masking import env_action_masks, random_actions
from prunerl.rl.normalize import ObsNormalizer
from prunerl.rl.nstep import NStepWriter
from prunerl.rl.optim import adam, clip_grad_norm, optimizer_step, zero_grads
from prunerl.rl.plain_dueling import plain_q_network, predict_q
from prunerl.rl.plain_mlp import NumpyForward
from prunerl.rl.schedules import LinearSchedule, rate_schedule

__all__ = ["DQN", "DQNConfig"]

CHUNK_ROWS = 1024  # target-network rows per forward pass: large enough to amortise, cache-sized
CHUNK_BYTES = 16 << 20  # memory bound on observations gathered at once for a round of updates


@agents.register("dqn")
class DQN(DQNActing, Agent):
    """DQN for discrete actions: MLP for vector observations, Nature-CNN for uint8 images."""

    algo = "dqn"
    config_cls = DQNConfig
    prunable = ("q",)
    followers: ClassVar[dict[str, str]] = {"q_target": "q"}
    config: DQNConfig

    def build(self) -> None:
        env_id, seed = self.env_id, self.seed
        self.env = make_env(env_id, seed, self.env_kwargs)
        space = self.env.action_space
        if not isinstance(space, gym.spaces.Discrete):
            raise ValueError(
                f"DQN needs a Discrete action space, but {env_id} has {space}; "
                "use 'sac' or 'ppo' for continuous actions"
            )
        self._obs_space, self._action_space = self.env.observation_space, space
        shape = obs_shape(self._obs_space)
        self.n_actions = int(space.n)
        self.is_image = is_image_space(self._obs_space)
        c = self.config
        q = q_network(shape, self.n_actions, self.is_image, c)
        self.networks = {"q": q, "q_target": copy.deepcopy(q).requires_grad_(False)}
        self._params = [p for p in q.parameters() if p.requires_grad]
        self.optimizers = {"q": adam(self._params, c.learning_rate)}
        obs_dtype = np.uint8 if self.is_image else np.float32
        self.buffer = ReplayBuffer(c.buffer_size, shape, obs_dtype=obs_dtype, seed=seed)
        self._last_obs: np.ndarray | None = None
        self._last_mask: np.ndarray | None = None  # its valid actions (None: the env gives none)
        self._acting = NumpyForward(plain_q_network)  # the online network in numpy, for acting
        self.writer = NStepWriter(self.buffer, c.n_step, c.gamma)
        if c.normalize_obs and self.is_image:
            raise ValueError("normalize_obs is for vector observations; images are scaled by 1/255")
        self.obs_normalizer = ObsNormalizer(shape) if c.normalize_obs else None
        self._refresh_normalizer()
        transition_bytes = 2 * self.buffer.obs[0].nbytes * c.batch_size
        chunk = min(CHUNK_ROWS // c.batch_size, CHUNK_BYTES // transition_bytes)
        self._chunk = max(1, chunk)  # batches sampled (and target-evaluated) at once

    # ------------------------------------------------------------------ spaces and acting
    @property
    def observation_space(self) -> gym.Space:
        return self._obs_space

    @property
    def action_space(self) -> gym.Space:
        return self._action_space

    def policy_network(self) -> nn.Module:
        return self.networks["q"]

    # ------------------------------------------------------------------ training
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> DQN:
        c = self.config
        cb = callback or Callback()
        decay = c.exploration_fraction * total_timesteps
        epsilon = LinearSchedule(c.exploration_initial_eps, c.exploration_final_eps, decay)
        final_lr = c.learning_rate if c.final_learning_rate is None else c.final_learning_rate
        lr = rate_schedule(c.learning_rate, final_lr, total_timesteps, self.schedule_origin)
        self.prepare_learning()
        obs, mask = self._last_obs, self._last_mask
        if obs is None:
            obs, info = self.env.reset(seed=self.seed if self.num_timesteps == 0 else None)
            mask = env_action_masks(info, self._action_space)
        cb.on_training_start(self)
        while self.num_timesteps < total_timesteps:
            # act: epsilon-greedy on the online network
            if self.obs_normalizer is not None:
                self.obs_normalizer.rms.update(obs[None])
            eps = epsilon(self.num_timesteps)
            if self.rng.random() < eps:  # a random (valid) action
                action = int(random_actions(mask, self.n_actions, 1, self.rng)[0])
            else:
                action = self._greedy_action(obs, mask)
            # step
            next_obs, reward, terminated, truncated, info = self.env.step(action)
            self.num_timesteps += 1
            self.check_transition(next_obs, reward)
            # store: only `terminated` stops bootstrapping, so time-limit truncation bootstraps;
            # the next state's valid actions go along for the target's max
            next_mask = env_action_masks(info, self._action_space)
            done = terminated or truncated
            self.writer.add(obs, action, float(reward), next_obs, terminated, done, next_mask)
            if done:
                episode = info["episode"]
                cb.on_episode(self, float(episode["r"]), int(episode["l"]))
                next_obs, info = self.env.reset()
                self.check_transition(next_obs, 0.0)
                next_mask = env_action_masks(info, self._action_space)
            obs, mask = next_obs, next_mask
            self._last_obs, self._last_mask = obs, mask  # current, for mid-run checkpoints
            # update: a round of gradient steps every train_freq env steps
            t = self.num_timesteps
            if t > c.learning_starts and t % c.train_freq == 0 and c.gradient_steps > 0:
                self._set_lr(lr(t))
                metrics = self.train(c.gradient_steps)
                metrics.update(epsilon=eps, learning_rate=lr(t))
                cb.on_update(self, metrics)
            # sync target: hard copy or Polyak average every target_update_interval env steps
            if t % c.target_update_interval == 0:
                self.update_target()
            if not cb.on_step(self):
                break
        cb.on_training_end(self)
        return self

    def drop_episode(self) -> None:
        self._last_obs = self._last_mask = None
        self.writer.clear()

    def on_networks_replaced(self) -> None:
        """A structural cut replaced the Q-networks: refresh the clipped parameter list."""
        self._params = [p for p in self.networks["q"].parameters() if p.requires_grad]

    def extra_state(self) -> dict[str, Any]:
        """Steps not yet written as n-step transitions, and running observation statistics."""
        state: dict[str, Any] = {"nstep": self.writer.state_dict()}
        if self.obs_normalizer is not None:
            state["obs_rms"] = self.obs_normalizer.rms.state_dict()
        return state

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "nstep" in state:
            self.writer.load_state_dict(state["nstep"])
        if self.obs_normalizer is not None and "obs_rms" in state:
            self.obs_normalizer.rms.load_state_dict(state["obs_rms"])
            self._refresh_normalizer()

    def _set_lr(self, value: float) -> None:
        for group in self.optimizers["q"].param_groups:
            group["lr"] = value

    @torch.no_grad()
    def update_target(self) -> None:
        """``target <- tau * online + (1 - tau) * target`` (a copy when tau is 1)."""
        online: list[torch.Tensor] = list(self.networks["q"].parameters())
        target: list[torch.Tensor] = list(self.networks["q_target"].parameters())
        if self.config.tau >= 1.0:
            torch._foreach_copy_(target, online)
        else:
            torch._foreach_lerp_(target, online, self.config.tau)

    @torch.no_grad()
    def td_target(self, batch: Batch) -> torch.Tensor:
        """``r + gamma * (1 - terminated) * Q_target(s', a*)``; a* from the online net if double;
        the max and argmax run over the valid actions of ``s'`` when the env gives masks."""
        self._refresh_normalizer()
        next_obs = self._to_input(batch.next_obs)
        online = self.networks["q"](next_obs) if self.config.double_q else None
        next_v = next_value(self.networks["q_target"](next_obs), online, batch.next_masks)
        return batch.rewards + self._continuation(batch) * next_v

    def _continuation(self, batch: Batch) -> torch.Tensor:
        """Bootstrap weight: the discount (gamma, or gamma**k of n-step returns) unless terminal."""
        discount = self.config.gamma if batch.discounts is None else batch.discounts
        return discount * (1.0 - batch.terminated)

    def train(self, gradient_steps: int) -> dict[str, float]:
        """``gradient_steps`` TD updates on replayed batches; returns the last step's metrics.

        The target network does not change during a round, so it is evaluated once per chunk of
        batches (one large forward pass instead of one per gradient step).
        """
        c = self.config
        self.pruning_step()  # a mask update due now lands before the targets are computed
        self._refresh_normalizer()
        plain = plain_q_network(self.networks["q"])  # None: the network and autograd as usual
        q_taken = target = torch.zeros(())
        done = 0
        while done < gradient_steps:
            n = min(self._chunk, gradient_steps - done)
            # sample: n batches in one gather
            b = self.buffer.sample_many(n, c.batch_size)
            next_q = predict_q(self.networks["q_target"], self._to_input(b.next_obs.flatten(0, 1)))
            next_q = next_q.view(n, c.batch_size, -1)
            cont = self._continuation(b)
            if not c.double_q:  # double DQN's targets need the online net of each step
                targets = b.rewards + cont * next_value(next_q, None, b.next_masks)
            for i in range(n):
                if c.double_q:  # the current online network picks the next action
                    x = self._to_input(b.next_obs[i])
                    online = predict_q(self.networks["q"], x, plain)  # the round's plain view
                    masks = None if b.next_masks is None else b.next_masks[i]
                    target = b.rewards[i] + cont[i] * next_value(next_q[i], online, masks)
                else:
                    target = targets[i]
                # update
                zero_grads(self.optimizers["q"])
                x = self._to_input(b.obs[i])
                q_taken = td_gradients(self.networks["q"], plain, x, b.actions[i], target, c.loss)
                self._gradient_step()
            done += n
        loss = LOSS_FUNCTIONS[self.config.loss](q_taken, target)
        metrics = {"loss": float(loss), "q_mean": float(q_taken.mean())}
        self.check_update(metrics)
        return metrics

    def _gradient_step(self) -> None:
        """Gradient statistics for the pruner, clipping, Adam step, masks re-applied."""
        if self.pruner is not None:
            self.pruner.observe_gradients()
            self.mask_gradients()  # pruned weights' gradients must not count in the clip norm
        if self.config.max_grad_norm is not None:
            clip_grad_norm(self._params, self.config.max_grad_norm)
        optimizer_step(self.optimizers["q"])
        self.num_updates += 1
        self.pruning_step()
