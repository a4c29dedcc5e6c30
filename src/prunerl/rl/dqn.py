"""Deep Q-Network with experience replay (Mnih et al. 2015), pruned while it learns.

Options: double DQN (van Hasselt et al. 2016), dueling heads (Wang et al. 2016), hard or
Polyak target updates, Huber or MSE loss, linear epsilon and learning-rate schedules, and the
``train_freq`` / ``gradient_steps`` / ``learning_starts`` cadence of Stable-Baselines3.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
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
from prunerl.rl.envs import is_image_space, make_env, obs_shape
from prunerl.rl.networks import DuelingQ, mlp, nature_cnn
from prunerl.rl.schedules import LinearSchedule

LOSSES = ("huber", "mse")


@dataclass
class DQNConfig:
    """DQN hyperparameters (defaults are generic; :meth:`for_env` gives tuned ones)."""

    net_arch: tuple[int, ...] = (256, 256)  # hidden layer widths of the MLP Q-network
    learning_rate: float = 1e-4  # Adam step size at the start of training
    final_learning_rate: float | None = None  # if set, lr decays linearly to it by the end
    buffer_size: int = 100_000  # replay buffer capacity (transitions)
    learning_starts: int = 1_000  # env steps of pure collection before the first update
    batch_size: int = 32  # transitions per gradient step
    gamma: float = 0.99  # discount factor
    tau: float = 1.0  # target update coefficient: 1 = hard copy, < 1 = Polyak averaging
    target_update_interval: int = 1_000  # env steps between target network updates
    train_freq: int = 4  # env steps between rounds of gradient steps
    gradient_steps: int = 1  # gradient steps per round
    exploration_fraction: float = 0.1  # fraction of training over which epsilon decays
    exploration_initial_eps: float = 1.0  # epsilon at the start
    exploration_final_eps: float = 0.05  # epsilon after the decay
    max_grad_norm: float | None = 10.0  # gradient norm clip (None: no clipping)
    double_q: bool = False  # double DQN: online net picks the next action, target evaluates it
    dueling: bool = False  # dueling value/advantage heads (vector observations only)
    loss: str = "huber"  # "huber" (smooth L1) or "mse"

    def __post_init__(self) -> None:
        self.net_arch = tuple(int(h) for h in self.net_arch)
        positive = ("buffer_size", "batch_size", "train_freq", "target_update_interval")
        for name in positive:
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.gradient_steps < 0:
            raise ValueError(f"gradient_steps must be >= 0, got {self.gradient_steps}")
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"tau must be in (0, 1], got {self.tau} (1.0 = hard target update)")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")

    @classmethod
    def for_env(cls, env_id: str) -> DQNConfig:
        """prunerl's tuned defaults for known environments, generic defaults otherwise."""
        tuned = TUNED.get(env_id)
        return cls(**tuned) if tuned is not None else cls()


TUNED: dict[str, dict[str, Any]] = {
    "CartPole-v1": dict(
        net_arch=(256, 256),
        learning_rate=2.3e-3,
        batch_size=64,
        buffer_size=100_000,
        learning_starts=1_000,
        gamma=0.99,
        target_update_interval=10,
        train_freq=256,
        gradient_steps=128,
        exploration_fraction=0.16,
        exploration_final_eps=0.04,
    ),
}


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
        self.optimizers = {"q": torch.optim.Adam(q.parameters(), lr=c.learning_rate)}
        self.buffer = ReplayBuffer(
            c.buffer_size,
            shape,
            obs_dtype=np.uint8 if self.is_image else np.float32,
            seed=seed,
        )
        self._last_obs: np.ndarray | None = None
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
        next_q = self.networks["q_target"](next_obs)
        if self.config.double_q:
            best = self.networks["q"](next_obs).argmax(dim=1, keepdim=True)
            next_v = next_q.gather(1, best).squeeze(1)
        else:
            next_v = next_q.max(dim=1).values
        return batch.rewards + self.config.gamma * (1.0 - batch.terminated) * next_v

    def train(self, gradient_steps: int) -> dict[str, float]:
        """``gradient_steps`` TD updates on replayed batches; returns the last step's metrics."""
        c = self.config
        q, opt = self.networks["q"], self.optimizers["q"]
        params = [p for p in q.parameters() if p.requires_grad]
        loss_fn = F.smooth_l1_loss if c.loss == "huber" else F.mse_loss
        loss = q_taken = torch.zeros(())
        for _ in range(gradient_steps):
            # sample
            batch = self.buffer.sample(c.batch_size)
            target = self.td_target(batch)
            q_taken = q(self._to_input(batch.obs)).gather(1, batch.actions[:, None]).squeeze(1)
            loss = loss_fn(q_taken, target)
            # update
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if self.pruner is not None:
                self.pruner.observe_gradients()
            if c.max_grad_norm is not None:
                nn.utils.clip_grad_norm_(params, c.max_grad_norm)
            opt.step()
            self.num_updates += 1
            self.pruning_step()
        return {"loss": float(loss.detach()), "q_mean": float(q_taken.detach().mean())}
