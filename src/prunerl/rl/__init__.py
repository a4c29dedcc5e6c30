"""Reinforcement learning: agents (DQN, PPO, SAC), networks, buffers, envs and evaluation."""

from prunerl.rl.base import Agent, agents, seed_everything
from prunerl.rl.callbacks import Callback, CallbackList
from prunerl.rl.dqn import DQN, DQNConfig
from prunerl.rl.envs import make_env, make_vec_env
from prunerl.rl.evaluate import evaluate_policy
from prunerl.rl.ppo import PPO
from prunerl.rl.ppo_config import PPOConfig
from prunerl.rl.sac import SAC
from prunerl.rl.sac_config import SACConfig
from prunerl.rl.structured import StructuredPruner
from prunerl.rl.structured_config import StructuredConfig

__all__ = [
    "DQN",
    "PPO",
    "SAC",
    "Agent",
    "Callback",
    "CallbackList",
    "DQNConfig",
    "PPOConfig",
    "SACConfig",
    "StructuredConfig",
    "StructuredPruner",
    "agents",
    "evaluate_policy",
    "make_env",
    "make_vec_env",
    "seed_everything",
]
