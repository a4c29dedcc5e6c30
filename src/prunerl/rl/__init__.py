"""Reinforcement learning: agents (DQN, PPO, SAC), networks, buffers, envs and evaluation."""

from prunerl.rl.base import Agent, agents, seed_everything
from prunerl.rl.callbacks import Callback, CallbackList
from prunerl.rl.dqn import DQN, DQNConfig
from prunerl.rl.envs import make_env, make_vec_env
from prunerl.rl.evaluate import evaluate_policy

__all__ = [
    "DQN",
    "Agent",
    "Callback",
    "CallbackList",
    "DQNConfig",
    "agents",
    "evaluate_policy",
    "make_env",
    "make_vec_env",
    "seed_everything",
]
