"""Deep Q-Network with experience replay (Mnih et al. 2015), pruned while it learns.

Options: double DQN (van Hasselt et al. 2016), dueling heads (Wang et al. 2016), hard or
Polyak target updates, Huber or MSE loss, linear epsilon and learning-rate schedules, and the
``train_freq`` / ``gradient_steps`` / ``learning_starts`` cadence of Stable-Baselines3.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from prunerl.core import PruningConfig
from prunerl.rl.base import Agent, agents
from prunerl.rl.buffers import Batch, ReplayBuffer
from prunerl.rl.callbacks import Callback
from prunerl.rl.dqn_config import DQNConfig
from prunerl.rl.envs import is_image_space, make_env, obs_shape
from prunerl.rl.networks import DuelingQ, mlp, nature_cnn
from prunerl.rl.schedules import LinearSchedule

__all__ = ["DQN", "DQNConfig"]

CHUNK_BYTES = 16 << 20  # memory bound on observations gathered at once for a round of updates


@agents.register("dqn")
class DQN(Agent):
    """DQN for discrete actions: MLP for vector observations, Nature-CNN for uint8 images."""

    algo = "dqn"
    config_cls = DQNConfig
    prunable = ("q",)
    followers: ClassVar[dict[str, str]] = {"q_target": "q"}
    config: DQNConfig

    def __init__(
        self,
        env_id: str,
        config: DQNConfig | None = None,
        *,
        pruning: PruningConfig | None = None,
        prune_networks: Sequence[str] | None = None,
        seed: int = 0,
        env_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if config is None:
            config = DQNConfig.for_env(env_id)
        super().__init__(
            env_id,
            config,
            pruning=pruning,
            prune_networks=prune_networks,
            seed=seed,
            env_kwargs=env_kwargs,
        )
        self.env = make_env(env_id, seed, self.env_kwargs)
        space = self.env.action_space
        if not isinstance(space, gym.spaces.Discrete):
            raise ValueError(
                f"DQN needs a Discrete action space, but {env_id} has {space}; "
                "use 'sac' or 'ppo' for continuous actions"
            )
        self._obs_space = self.env.observation_space
        self._action_space = space
        shape = obs_shape(self._obs_space)
        self.n_actions = int(space.n)
        self.is_image = is_image_space(self._obs_space)
        c = self.config
        q = self._build_q(shape)
        self.networks = {"q": q, "q_target": copy.deepcopy(q).requires_grad_(False)}
        self._params = [p for p in q.parameters() if p.requires_grad]
        # fused Adam: one kernel for all parameters instead of a Python loop over them
        self.optimizers = {"q": torch.optim.Adam(self._params, lr=c.learning_rate, fused=True)}
        self.buffer = ReplayBuffer(
            c.buffer_size,
            shape,
            obs_dtype=np.uint8 if self.is_image else np.float32,
            seed=seed,
        )
        self._last_obs: np.ndarray | None = None
        transition_bytes = 2 * self.buffer.obs[0].nbytes * c.batch_size
        self._chunk = max(1, CHUNK_BYTES // transition_bytes)  # batches sampled at once
        self.setup_pruning()

    def _build_q(self, shape: tuple[int, ...]) -> nn.Module:
        c = self.config
        if self.is_image:
            if c.dueling:
                raise ValueError(
                    "dueling heads are built for vector observations; set dueling=False"
                )
            return nature_cnn(shape[0], self.n_actions)
        in_dim = math.prod(shape)
        if c.dueling:
            return DuelingQ(in_dim, self.n_actions, c.net_arch)
        return mlp(in_dim, self.n_actions, c.net_arch)

    # ------------------------------------------------------------------ spaces and acting
    @property
    def observation_space(self) -> gym.Space:
        return self._obs_space

    @property
    def action_space(self) -> gym.Space:
        return self._action_space

    def policy_network(self) -> nn.Module:
        return self.networks["q"]

    def _to_input(self, obs: torch.Tensor) -> torch.Tensor:
        """Network input: images scaled to [0, 1]; vector observations flattened to float."""
        if self.is_image:
            return obs.float().mul_(1.0 / 255.0)
        return obs.reshape(obs.shape[0], -1).float()

    @torch.no_grad()
    def q_values(self, obs: np.ndarray) -> torch.Tensor:
        """Q-values of the online network for a batch of raw observations."""
        return self.networks["q"](self._to_input(torch.as_tensor(obs)))

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        obs = np.asarray(obs)
        single = obs.ndim == len(obs_shape(self._obs_space))
        batch = obs[None] if single else obs
        actions = self.q_values(batch).argmax(dim=1).numpy()
        if not deterministic:
            explore = self.rng.random(len(actions)) < self.config.exploration_final_eps
            actions = np.where(
                explore, self.rng.integers(self.n_actions, size=len(actions)), actions
            )
        return actions[0] if single else actions

    # ------------------------------------------------------------------ training
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> DQN:
        c = self.config
        cb = callback or Callback()
        epsilon = LinearSchedule(
            c.exploration_initial_eps,
            c.exploration_final_eps,
            c.exploration_fraction * total_timesteps,
        )
        final_lr = c.learning_rate if c.final_learning_rate is None else c.final_learning_rate
        lr = LinearSchedule(c.learning_rate, final_lr, total_timesteps)
        obs = self._last_obs
        if obs is None:
            obs, _ = self.env.reset(seed=self.seed if self.num_timesteps == 0 else None)
        cb.on_training_start(self)
        while self.num_timesteps < total_timesteps:
            # act: epsilon-greedy on the online network
            eps = epsilon(self.num_timesteps)
            if self.rng.random() < eps:
                action = int(self.rng.integers(self.n_actions))
            else:
                action = int(self.q_values(obs[None]).argmax())
            # step
            next_obs, reward, terminated, truncated, info = self.env.step(action)
            self.num_timesteps += 1
            # store: only `terminated` stops bootstrapping, so time-limit truncation bootstraps
            self.buffer.add(obs, np.asarray(action), float(reward), next_obs, bool(terminated))
            if terminated or truncated:
                episode = info["episode"]
                cb.on_episode(self, float(episode["r"]), int(episode["l"]))
                next_obs, _ = self.env.reset()
            obs = next_obs
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
        self._last_obs = obs
        cb.on_training_end(self)
        return self

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
        """``r + gamma * (1 - terminated) * Q_target(s', a*)``; a* from the online net if double."""
        next_obs = self._to_input(batch.next_obs)
        online = self.networks["q"](next_obs) if self.config.double_q else None
        next_q = self.networks["q_target"](next_obs)
        return self._bootstrap(batch.rewards, batch.terminated, next_q, online)

    def _bootstrap(
        self,
        rewards: torch.Tensor,
        terminated: torch.Tensor,
        next_q_target: torch.Tensor,
        next_q_online: torch.Tensor | None,
    ) -> torch.Tensor:
        """TD target from next-state Q-values (max of the target net, or double-DQN choice)."""
        if next_q_online is None:
            next_v = next_q_target.max(dim=-1).values
        else:
            best = next_q_online.argmax(dim=-1, keepdim=True)
            next_v = next_q_target.gather(-1, best).squeeze(-1)
        return rewards + self.config.gamma * (1.0 - terminated) * next_v

    def train(self, gradient_steps: int) -> dict[str, float]:
        """``gradient_steps`` TD updates on replayed batches; returns the last step's metrics.

        The target network does not change during a round, so it is evaluated once per chunk of
        batches (one large forward pass instead of one per gradient step).
        """
        c = self.config
        q, q_target = self.networks["q"], self.networks["q_target"]
        loss_fn = F.smooth_l1_loss if c.loss == "huber" else F.mse_loss
        self.pruning_step()  # a mask update due now lands before the targets are computed
        loss = q_taken = torch.zeros(())
        done = 0
        while done < gradient_steps:
            n = min(self._chunk, gradient_steps - done)
            # sample: n batches in one gather
            b = self.buffer.sample_many(n, c.batch_size)
            with torch.no_grad():
                next_q = q_target(self._to_input(b.next_obs.flatten(0, 1)))
                next_q = next_q.view(n, c.batch_size, -1)
                targets = (
                    None if c.double_q else self._bootstrap(b.rewards, b.terminated, next_q, None)
                )
            for i in range(n):
                # TD target (double DQN: the current online network picks the next action)
                if targets is None:
                    with torch.no_grad():
                        online = q(self._to_input(b.next_obs[i]))
                    target = self._bootstrap(b.rewards[i], b.terminated[i], next_q[i], online)
                else:
                    target = targets[i]
                # update
                q_taken = q(self._to_input(b.obs[i])).gather(1, b.actions[i][:, None]).squeeze(1)
                loss = loss_fn(q_taken, target)
                self._gradient_step(loss)
            done += n
        return {"loss": float(loss.detach()), "q_mean": float(q_taken.detach().mean())}

    def _gradient_step(self, loss: torch.Tensor) -> None:
        """Backward, gradient statistics for the pruner, clipping, Adam step, masks re-applied."""
        opt = self.optimizers["q"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.pruner is not None:
            self.pruner.observe_gradients()
        if self.config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self._params, self.config.max_grad_norm, foreach=True)
        opt.step()
        self.num_updates += 1
        self.pruning_step()
