"""A small test-double agent: a softmax policy on a discrete env, trained on random targets.

It follows the Agent contract (callbacks, pruning glue, counters) and draws from every random
stream a real agent may use (torch, the agent's numpy generator, numpy's and Python's global
ones), so resume and seeding tests can tell whether all of them are restored.
"""

from __future__ import annotations

import copy
import os
import random
import signal
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from prunerl.rl.base import Agent, agents
from prunerl.rl.callbacks import Callback
from prunerl.rl.envs import make_env
from prunerl.rl.networks import mlp


@dataclass
class DoubleConfig:
    """Hyperparameters of the test double."""

    hidden: tuple[int, ...] = (16,)  # hidden layer widths
    learning_rate: float = 0.01  # Adam step size
    target_every: int = 10  # env steps between target copies

    @classmethod
    def for_env(cls, env_id: str) -> DoubleConfig:
        return cls(hidden=(24,)) if env_id == "CartPole-v1" else cls()


@agents.register("double", overwrite=True)
class DoubleAgent(Agent):
    """Softmax policy + regression updates; ``interrupt_at`` simulates Ctrl-C for CLI tests."""

    algo = "double"
    config_cls = DoubleConfig
    prunable = ("policy",)
    followers: ClassVar[dict[str, str]] = {"policy_target": "policy"}
    interrupt_at: ClassVar[int | None] = None  # send SIGINT to this process at that step
    raise_at: ClassVar[int | None] = None  # raise KeyboardInterrupt at that step

    def build(self) -> None:
        env_id = self.env_id
        self.env = make_env(env_id, self.seed, self.env_kwargs)
        if not isinstance(self.env.action_space, gym.spaces.Discrete):
            raise ValueError(f"double needs a Discrete action space, got {self.env.action_space}")
        obs_dim = int(np.prod(self.env.observation_space.shape))
        self.n = int(self.env.action_space.n)
        policy = mlp(obs_dim, self.n, self.config.hidden)
        self.networks = {"policy": policy, "policy_target": copy.deepcopy(policy)}
        self.optimizers = {
            "policy": torch.optim.Adam(policy.parameters(), self.config.learning_rate)
        }
        self._last_obs: np.ndarray | None = None

    @property
    def observation_space(self) -> gym.Space:
        return self.env.observation_space

    @property
    def action_space(self) -> gym.Space:
        return self.env.action_space

    def policy_network(self) -> torch.nn.Module:
        return self.networks["policy"]

    @torch.no_grad()
    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        logits = self.networks["policy"](torch.as_tensor(np.asarray(obs), dtype=torch.float32))
        return logits.argmax(-1).numpy()

    def learn(self, total_timesteps: int, callback: Callback | None = None) -> DoubleAgent:
        cb = callback or Callback()
        policy, opt = self.networks["policy"], self.optimizers["policy"]
        obs = self._last_obs
        if obs is None:
            obs, _ = self.env.reset(seed=self.seed)
        cb.on_training_start(self)
        while self.num_timesteps < total_timesteps:
            # act
            with torch.no_grad():
                logits = policy(torch.as_tensor(obs[None]))
            action = int(torch.distributions.Categorical(logits=logits).sample())
            # step
            next_obs, _, terminated, truncated, info = self.env.step(action)
            self.num_timesteps += 1
            if terminated or truncated:
                cb.on_episode(self, float(info["episode"]["r"]), int(info["episode"]["l"]))
                next_obs, _ = self.env.reset()
            # update: regress on targets from every random stream
            noise = self.rng.normal(size=self.n) + np.random.normal() + random.random()
            target = torch.as_tensor(noise, dtype=torch.float32)
            loss = ((policy(torch.as_tensor(obs[None])) - target) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            if self.pruner is not None:
                self.pruner.observe_gradients()
            opt.step()
            self.num_updates += 1
            self.pruning_step()
            cb.on_update(self, {"loss": float(loss.detach())})
            # sync target
            if self.num_timesteps % self.config.target_every == 0:
                self.networks["policy_target"].load_state_dict(policy.state_dict())
            self._last_obs = obs = next_obs
            if self.num_timesteps == self.interrupt_at:
                os.kill(os.getpid(), signal.SIGINT)
            if self.num_timesteps == self.raise_at:
                raise KeyboardInterrupt
            if not cb.on_step(self):
                break
        cb.on_training_end(self)
        return self


def tiny(**changes: Any) -> dict[str, Any]:
    """A quick double-agent run config (400 steps on CartPole, quiet)."""
    base: dict[str, Any] = {
        "env_id": "CartPole-v1",
        "algo": "double",
        "total_steps": 400,
        "seed": 3,
        "eval": {"episodes": 3, "every": 100},
        "checkpoint": {"every": 100},
        "logging": {"quiet": True, "every": 50},
    }
    base.update(changes)
    return base
